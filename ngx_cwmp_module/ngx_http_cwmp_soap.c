
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Parsing is hardened before anything is trusted: no network, no entity
 * substitution, no DTD (a DOCTYPE stops the parser), and caps on element
 * depth and count enforced from SAX callbacks, before the tree grows.
 * Elements are matched by namespace URI and local name, never by prefix.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/parserInternals.h>

#include "ngx_http_cwmp_soap.h"


#define NGX_HTTP_CWMP_CTXT_NAMES   4096     /* names its dictionary holds */


static void ngx_http_cwmp_soap_guard_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes);
static void ngx_http_cwmp_soap_guard_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri);
static void ngx_http_cwmp_soap_free_doc(void *data);
static xmlParserCtxtPtr ngx_http_cwmp_soap_ctxt(void);


static xmlParserCtxtPtr        ngx_http_cwmp_soap_parser;
static ngx_uint_t              ngx_http_cwmp_soap_parses;
static startElementNsSAX2Func  ngx_http_cwmp_soap_guard_start_orig;
static endElementNsSAX2Func    ngx_http_cwmp_soap_guard_end_orig;


static ngx_int_t ngx_http_cwmp_soap_is(xmlNodePtr node, char *uri,
    char *name);
static ngx_int_t ngx_http_cwmp_soap_answer(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_http_cwmp_xml_t *body, ngx_str_t *out);
static ngx_int_t ngx_http_cwmp_soap_envelope(ngx_pool_t *pool,
    ngx_str_t *ns, ngx_str_t *id, ngx_str_t *extra, u_char *body,
    size_t len, ngx_str_t *out);


ngx_int_t
ngx_http_cwmp_soap_parse(ngx_pool_t *pool, u_char *buf, size_t len,
    ngx_http_cwmp_msg_t *msg)
{
    ngx_int_t                    rc;
    xmlDocPtr                    doc;
    xmlNodePtr                   root, node, header, body, rpc;
    ngx_pool_cleanup_t          *cln;
    xmlParserCtxtPtr             ctxt;
    ngx_http_cwmp_soap_guard_t   guard;

    if (len > NGX_MAX_INT32_VALUE) {
        ngx_str_set(&msg->error, "body too large for the XML parser");
        return NGX_DECLINED;
    }

    /*
     * An Inform, the message of every session, is read by SAX straight
     * into msg, with no tree to build and free; anything else goes on to
     * the tree below.
     */

    rc = ngx_http_cwmp_soap_sax(pool, buf, len, msg);
    if (rc != NGX_AGAIN) {
        return rc;
    }

    ngx_memzero(msg, sizeof(ngx_http_cwmp_msg_t));

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ctxt = ngx_http_cwmp_soap_ctxt();
    if (ctxt == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&guard, sizeof(ngx_http_cwmp_soap_guard_t));

    xmlCtxtResetLastError(ctxt);
    ctxt->_private = &guard;

    doc = xmlCtxtReadMemory(ctxt, (const char *) buf, (int) len, NULL, NULL,
                            NGX_HTTP_CWMP_PARSE_OPTIONS);

    if (doc) {
        cln->handler = ngx_http_cwmp_soap_free_doc;
        cln->data = doc;
    }

    if (guard.error) {
        msg->error.data = (u_char *) guard.error;
        msg->error.len = ngx_strlen(guard.error);
        return NGX_DECLINED;
    }

    if (doc == NULL) {
        return ngx_http_cwmp_soap_xml_error(pool, ctxt, msg);
    }

    root = xmlDocGetRootElement(doc);

    if (root == NULL
        || !ngx_http_cwmp_soap_is(root, NGX_HTTP_CWMP_SOAP_ENV, "Envelope"))
    {
        ngx_str_set(&msg->error, "not a SOAP 1.1 envelope");
        return NGX_DECLINED;
    }

    header = NULL;
    body = NULL;

    for (node = ngx_http_cwmp_soap_first(root);
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        if (ngx_http_cwmp_soap_is(node, NGX_HTTP_CWMP_SOAP_ENV, "Header")) {
            header = node;

        } else if (ngx_http_cwmp_soap_is(node, NGX_HTTP_CWMP_SOAP_ENV,
                                         "Body"))
        {
            body = node;
        }
    }

    if (body == NULL) {
        ngx_str_set(&msg->error, "SOAP envelope without a Body");
        return NGX_DECLINED;
    }

    ngx_str_set(&msg->ns, NGX_HTTP_CWMP_NS_DEFAULT);

    if (header) {
        for (node = ngx_http_cwmp_soap_first(header);
             node;
             node = ngx_http_cwmp_soap_next(node))
        {
            if (node->ns == NULL
                || !ngx_http_cwmp_soap_is_cwmp_ns(node->ns->href))
            {
                continue;
            }

            if (ngx_strcmp(node->name, "ID") == 0) {
                if (ngx_http_cwmp_soap_text(pool, node, &msg->id, 0)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

                if (msg->id.len > NGX_HTTP_CWMP_MAX_NAME) {
                    ngx_str_set(&msg->error, "cwmp:ID too long");
                    return NGX_DECLINED;
                }

                msg->has_id = 1;
                msg->ns.data = (u_char *) node->ns->href;
                msg->ns.len = ngx_strlen(node->ns->href);

            } else if (ngx_strcmp(node->name, "SupportedCWMPVersions") == 0) {
                if (ngx_http_cwmp_soap_text(pool, node, &msg->versions, 1)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

            } else if (ngx_strcmp(node->name, "SessionTimeout") == 0) {
                if (ngx_http_cwmp_soap_text(pool, node,
                                            &msg->session_timeout, 1)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

            } else if (ngx_strcmp(node->name, "HoldRequests") == 0) {
                /* ACS -> CPE only: a CPE that sends it is ignored */
                msg->hold_requests = 1;
            }
        }
    }

    rpc = ngx_http_cwmp_soap_first(body);

    if (rpc == NULL) {
        ngx_str_set(&msg->error, "empty SOAP Body");
        return NGX_DECLINED;
    }

    msg->rpc = rpc;
    msg->method.data = (u_char *) rpc->name;
    msg->method.len = ngx_strlen(rpc->name);

    if (ngx_http_cwmp_soap_is(rpc, NGX_HTTP_CWMP_SOAP_ENV, "Fault")) {
        msg->type = NGX_HTTP_CWMP_MSG_FAULT;
        return NGX_OK;
    }

    if (rpc->ns == NULL || !ngx_http_cwmp_soap_is_cwmp_ns(rpc->ns->href)) {
        ngx_str_set(&msg->error, "SOAP Body holds no CWMP method");
        return NGX_DECLINED;
    }

    msg->ns.data = (u_char *) rpc->ns->href;
    msg->ns.len = ngx_strlen(rpc->ns->href);

    /* an Inform never gets here: ngx_http_cwmp_soap_sax() reads it */

    if (msg->method.len > sizeof("Response") - 1
        && ngx_strcmp(msg->method.data + msg->method.len
                      - (sizeof("Response") - 1), "Response") == 0)
    {
        msg->type = NGX_HTTP_CWMP_MSG_RESPONSE;

    } else {
        msg->type = NGX_HTTP_CWMP_MSG_REQUEST;
    }

    return NGX_OK;
}


/*
 * The worker's parser context, with our SAX guards in it: reused (xmlCtxt-
 * ReadMemory resets it), renewed after many parses or when the names a
 * CPE can add to its dictionary pile up.
 */

static xmlParserCtxtPtr
ngx_http_cwmp_soap_ctxt(void)
{
    xmlParserCtxtPtr  ctxt;

    ctxt = ngx_http_cwmp_soap_parser;

    if (ctxt
        && (ngx_http_cwmp_soap_parses >= NGX_HTTP_CWMP_CTXT_USES
            || xmlDictSize(ctxt->dict) > NGX_HTTP_CWMP_CTXT_NAMES))
    {
        xmlFreeParserCtxt(ctxt);
        ctxt = NULL;
    }

    if (ctxt == NULL) {
        ctxt = xmlNewParserCtxt();
        if (ctxt == NULL) {
            ngx_http_cwmp_soap_parser = NULL;
            return NULL;
        }

        ngx_http_cwmp_soap_parses = 0;

        /* the guard's handlers wrap libxml2's own */

        ngx_http_cwmp_soap_guard_start_orig = ctxt->sax->startElementNs;
        ngx_http_cwmp_soap_guard_end_orig = ctxt->sax->endElementNs;

        ctxt->sax->startElementNs = ngx_http_cwmp_soap_guard_start;
        ctxt->sax->endElementNs = ngx_http_cwmp_soap_guard_end;
        ctxt->sax->internalSubset = ngx_http_cwmp_soap_guard_doctype;
        ctxt->sax->externalSubset = ngx_http_cwmp_soap_guard_doctype;

        ngx_http_cwmp_soap_parser = ctxt;
    }

    ngx_http_cwmp_soap_parses++;

    return ctxt;
}


static void
ngx_http_cwmp_soap_guard_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
    xmlParserCtxtPtr             ctxt;
    ngx_http_cwmp_soap_guard_t  *guard;

    ctxt = ctx;
    guard = ctxt->_private;

    if (++guard->depth > NGX_HTTP_CWMP_MAX_DEPTH) {
        guard->error = "XML nested too deep";
        xmlStopParser(ctxt);
        return;
    }

    if (++guard->elements > NGX_HTTP_CWMP_MAX_ELEMENTS) {
        guard->error = "too many XML elements";
        xmlStopParser(ctxt);
        return;
    }

    ngx_http_cwmp_soap_guard_start_orig(ctx, localname, prefix, uri,
                                        nb_namespaces, namespaces,
                                        nb_attributes, nb_defaulted,
                                        attributes);
}


static void
ngx_http_cwmp_soap_guard_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
    xmlParserCtxtPtr             ctxt;
    ngx_http_cwmp_soap_guard_t  *guard;

    ctxt = ctx;
    guard = ctxt->_private;

    guard->depth--;
    ngx_http_cwmp_soap_guard_end_orig(ctx, localname, prefix, uri);
}


void
ngx_http_cwmp_soap_guard_doctype(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id)
{
    xmlParserCtxtPtr             ctxt;
    ngx_http_cwmp_soap_guard_t  *guard;

    ctxt = ctx;
    guard = ctxt->_private;

    guard->error = "DOCTYPE not allowed";
    xmlStopParser(ctxt);
}


static void
ngx_http_cwmp_soap_free_doc(void *data)
{
    xmlFreeDoc(data);
}


/* why libxml2 refused a body, in msg->error: NGX_DECLINED, or NGX_ERROR */

ngx_int_t
ngx_http_cwmp_soap_xml_error(ngx_pool_t *pool, xmlParserCtxtPtr ctxt,
    ngx_http_cwmp_msg_t *msg)
{
    size_t       n;
    xmlErrorPtr  err;

    err = xmlCtxtGetLastError(ctxt);

    if (err == NULL || err->message == NULL) {
        ngx_str_set(&msg->error, "malformed XML");
        return NGX_DECLINED;
    }

    n = ngx_strlen(err->message);

    while (n && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
    {
        n--;
    }

    msg->error.data = ngx_pnalloc(pool, n);
    if (msg->error.data == NULL) {
        return NGX_ERROR;
    }

    msg->error.len = n;
    ngx_memcpy(msg->error.data, err->message, n);

    return NGX_DECLINED;
}


/* xsi:type="xsd:unsignedInt" (any prefix) becomes "xsd:unsignedInt" */

ngx_int_t
ngx_http_cwmp_soap_param_type(ngx_pool_t *pool, xmlNodePtr value,
    ngx_str_t *type)
{
    u_char      *colon, *t;
    size_t       len;
    xmlAttrPtr   a;

    ngx_str_null(type);

    for (a = value->properties; a; a = a->next) {
        if (a->ns == NULL || a->ns->href == NULL
            || ngx_strcmp(a->name, "type") != 0
            || ngx_strstr(a->ns->href, "XMLSchema-instance") == NULL
            || a->children == NULL || a->children->content == NULL)
        {
            continue;
        }

        t = a->children->content;
        colon = (u_char *) ngx_strchr(t, ':');
        t = colon ? colon + 1 : t;
        len = ngx_strlen(t);

        if (len == 0 || len > 32) {
            return NGX_OK;
        }

        type->len = sizeof("xsd:") - 1 + len;
        type->data = ngx_pnalloc(pool, type->len + 1);
        if (type->data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(type->data, "xsd:%s%Z", t);

        return NGX_OK;
    }

    return NGX_OK;
}


xmlNodePtr
ngx_http_cwmp_soap_first(xmlNodePtr parent)
{
    xmlNodePtr  n;

    for (n = parent->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            return n;
        }
    }

    return NULL;
}


xmlNodePtr
ngx_http_cwmp_soap_next(xmlNodePtr node)
{
    xmlNodePtr  n;

    for (n = node->next; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            return n;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_cwmp_soap_is(xmlNodePtr node, char *uri, char *name)
{
    return node->ns && node->ns->href
           && ngx_strcmp(node->ns->href, uri) == 0
           && ngx_strcmp(node->name, name) == 0;
}


ngx_int_t
ngx_http_cwmp_soap_is_cwmp_ns(const xmlChar *uri)
{
    size_t           len;
    const xmlChar   *p;

    len = sizeof(NGX_HTTP_CWMP_NS_PREFIX) - 1;

    if (ngx_strncmp(uri, NGX_HTTP_CWMP_NS_PREFIX, len) != 0) {
        return 0;
    }

    /* one or two digits: "urn:dslforum-org:cwmp-1-0" ... "cwmp-1-99" */

    for (p = uri + len; *p; p++) {
        if (*p < '0' || *p > '9' || p - uri - len >= 2) {
            return 0;
        }
    }

    return p > uri + len;
}


/* RPC arguments are unqualified (XSD), some CPEs qualify them: take both */

ngx_int_t
ngx_http_cwmp_soap_is_arg(xmlNodePtr node, char *name)
{
    if (ngx_strcmp(node->name, name) != 0) {
        return 0;
    }

    return node->ns == NULL || ngx_http_cwmp_soap_is_cwmp_ns(node->ns->href);
}


xmlNodePtr
ngx_http_cwmp_soap_arg(xmlNodePtr parent, char *name)
{
    xmlNodePtr  n;

    for (n = ngx_http_cwmp_soap_first(parent);
         n;
         n = ngx_http_cwmp_soap_next(n))
    {
        if (ngx_http_cwmp_soap_is_arg(n, name)) {
            return n;
        }
    }

    return NULL;
}


/*
 * The text of an element.  One text child (the common case) is referenced
 * in place: the document lives as long as the request.
 */

ngx_int_t
ngx_http_cwmp_soap_text(ngx_pool_t *pool, xmlNodePtr node, ngx_str_t *text,
    ngx_uint_t trim)
{
    u_char      *p;
    size_t       len;
    xmlNodePtr   c;

    ngx_str_null(text);

    c = node->children;

    if (c == NULL) {
        return NGX_OK;
    }

    if (c->next == NULL && c->type == XML_TEXT_NODE) {
        text->data = c->content;
        text->len = ngx_strlen(c->content);

    } else {
        len = 0;

        for (c = node->children; c; c = c->next) {
            if (c->type == XML_TEXT_NODE && c->content) {
                len += ngx_strlen(c->content);
            }
        }

        p = ngx_pnalloc(pool, len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        text->data = p;

        for (c = node->children; c; c = c->next) {
            if (c->type == XML_TEXT_NODE && c->content) {
                p = ngx_cpystrn(p, c->content, ngx_strlen(c->content) + 1);
            }
        }

        text->len = p - text->data;
    }

    if (trim) {
        ngx_http_cwmp_soap_trim(text);
    }

    return NGX_OK;
}


void
ngx_http_cwmp_soap_trim(ngx_str_t *s)
{
    while (s->len && (s->data[0] == ' ' || s->data[0] == '\t'
                      || s->data[0] == CR || s->data[0] == LF))
    {
        s->data++;
        s->len--;
    }

    while (s->len && (s->data[s->len - 1] == ' '
                      || s->data[s->len - 1] == '\t'
                      || s->data[s->len - 1] == CR
                      || s->data[s->len - 1] == LF))
    {
        s->len--;
    }
}


/* the writer ---------------------------------------------------------- */


/* use_version: UseCWMPVersion for a CPE that sent SupportedCWMPVersions */

ngx_int_t
ngx_http_cwmp_soap_inform_response(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *use_version, ngx_str_t *out)
{
    ngx_str_t            extra;
    ngx_http_cwmp_xml_t  hdr, body;

    ngx_memzero(&body, sizeof(ngx_http_cwmp_xml_t));
    body.pool = pool;

    ngx_http_cwmp_xml_literal(&body, "<cwmp:InformResponse>" CRLF);
    ngx_http_cwmp_xml_element(&body, "MaxEnvelopes", "1", 1);
    ngx_http_cwmp_xml_literal(&body, "</cwmp:InformResponse>" CRLF);

    if (use_version == NULL || use_version->len == 0) {
        return ngx_http_cwmp_soap_answer(pool, msg, &body, out);
    }

    ngx_memzero(&hdr, sizeof(ngx_http_cwmp_xml_t));
    hdr.pool = pool;

    ngx_http_cwmp_xml_literal(&hdr, "<cwmp:UseCWMPVersion "
                                    "soap-env:mustUnderstand=\"1\">");
    ngx_http_cwmp_xml_text(&hdr, (char *) use_version->data,
                           use_version->len);
    ngx_http_cwmp_xml_literal(&hdr, "</cwmp:UseCWMPVersion>" CRLF);

    if (hdr.nomem || hdr.error || body.nomem) {
        return NGX_ERROR;
    }

    extra.data = hdr.start;
    extra.len = hdr.pos - hdr.start;

    return ngx_http_cwmp_soap_envelope(pool, &msg->ns,
                                       msg->has_id ? &msg->id : NULL, &extra,
                                       body.start, body.pos - body.start,
                                       out);
}


/* 8003 is the CPE's fault, the others the ACS's (TR-069 Table A.5) */

ngx_int_t
ngx_http_cwmp_soap_fault(ngx_pool_t *pool, ngx_http_cwmp_msg_t *msg,
    ngx_uint_t code, char *text, ngx_str_t *out)
{
    u_char               buf[NGX_INT_T_LEN + 1];
    ngx_http_cwmp_xml_t  body;

    ngx_memzero(&body, sizeof(ngx_http_cwmp_xml_t));
    body.pool = pool;

    *ngx_sprintf(buf, "%ui", code) = '\0';

    ngx_http_cwmp_xml_literal(&body, "<soap-env:Fault>" CRLF);
    ngx_http_cwmp_xml_element(&body, "faultcode",
                              code == 8003 ? "Client" : "Server", 6);
    ngx_http_cwmp_xml_element(&body, "faultstring", "CWMP fault", 10);
    ngx_http_cwmp_xml_literal(&body, "<detail>" CRLF "<cwmp:Fault>" CRLF);
    ngx_http_cwmp_xml_element(&body, "FaultCode", (char *) buf,
                              ngx_strlen(buf));
    ngx_http_cwmp_xml_element(&body, "FaultString", text, ngx_strlen(text));
    ngx_http_cwmp_xml_literal(&body, "</cwmp:Fault>" CRLF "</detail>" CRLF
                                     "</soap-env:Fault>" CRLF);

    return ngx_http_cwmp_soap_answer(pool, msg, &body, out);
}


/*
 * <cwmp:MethodResponse/> to a CPE request; with next_url, the NextURL
 * that Kicked answers
 */

ngx_int_t
ngx_http_cwmp_soap_response(ngx_pool_t *pool, ngx_http_cwmp_msg_t *msg,
    ngx_str_t *next_url, ngx_str_t *out)
{
    ngx_http_cwmp_xml_t  body;

    ngx_memzero(&body, sizeof(ngx_http_cwmp_xml_t));
    body.pool = pool;

    ngx_http_cwmp_xml_literal(&body, "<cwmp:");
    ngx_http_cwmp_xml_rawn(&body, msg->method.data, msg->method.len);

    if (next_url == NULL) {
        /* no arguments: an empty element, as the schema has it */
        ngx_http_cwmp_xml_literal(&body, "Response/>" CRLF);
        return ngx_http_cwmp_soap_answer(pool, msg, &body, out);
    }

    ngx_http_cwmp_xml_literal(&body, "Response>" CRLF);
    ngx_http_cwmp_xml_element(&body, "NextURL", (char *) next_url->data,
                              next_url->len);
    ngx_http_cwmp_xml_literal(&body, "</cwmp:");
    ngx_http_cwmp_xml_rawn(&body, msg->method.data, msg->method.len);
    ngx_http_cwmp_xml_literal(&body, "Response>" CRLF);

    return ngx_http_cwmp_soap_answer(pool, msg, &body, out);
}


/* GetRPCMethodsResponse: the methods, a NULL-terminated list */

ngx_int_t
ngx_http_cwmp_soap_methods(ngx_pool_t *pool, ngx_http_cwmp_msg_t *msg,
    char **methods, ngx_str_t *out)
{
    u_char               buf[NGX_INT_T_LEN + 1];
    ngx_uint_t           n;
    ngx_http_cwmp_xml_t  body;

    ngx_memzero(&body, sizeof(ngx_http_cwmp_xml_t));
    body.pool = pool;

    for (n = 0; methods[n]; n++) { /* void */ }

    *ngx_sprintf(buf, "%ui", n) = '\0';

    ngx_http_cwmp_xml_literal(&body, "<cwmp:GetRPCMethodsResponse>" CRLF
                                     "<MethodList soap-enc:arrayType="
                                     "\"xsd:string[");
    ngx_http_cwmp_xml_raw(&body, (char *) buf);
    ngx_http_cwmp_xml_literal(&body, "]\">" CRLF);

    for (n = 0; methods[n]; n++) {
        ngx_http_cwmp_xml_element(&body, "string", methods[n],
                                  ngx_strlen(methods[n]));
    }

    ngx_http_cwmp_xml_literal(&body, "</MethodList>" CRLF
                                     "</cwmp:GetRPCMethodsResponse>" CRLF);

    return ngx_http_cwmp_soap_answer(pool, msg, &body, out);
}


ngx_int_t
ngx_http_cwmp_soap_request(ngx_pool_t *pool, ngx_str_t *ns, ngx_str_t *id,
    ngx_str_t *body, ngx_str_t *out)
{
    return ngx_http_cwmp_soap_envelope(pool, ns, id, NULL, body->data,
                                       body->len, out);
}


/* the answer to a CPE request: its cwmp:ID, its namespace */

static ngx_int_t
ngx_http_cwmp_soap_answer(ngx_pool_t *pool, ngx_http_cwmp_msg_t *msg,
    ngx_http_cwmp_xml_t *body, ngx_str_t *out)
{
    if (body->nomem || body->error) {
        return NGX_ERROR;
    }

    return ngx_http_cwmp_soap_envelope(pool, &msg->ns,
                                       msg->has_id ? &msg->id : NULL, NULL,
                                       body->start, body->pos - body->start,
                                       out);
}


/* id NULL: no cwmp:ID; extra: more header elements; neither, no Header */

static ngx_int_t
ngx_http_cwmp_soap_envelope(ngx_pool_t *pool, ngx_str_t *ns, ngx_str_t *id,
    ngx_str_t *extra, u_char *body, size_t len, ngx_str_t *out)
{
    ngx_http_cwmp_xml_t  x;

    ngx_memzero(&x, sizeof(ngx_http_cwmp_xml_t));
    x.pool = pool;

    /* all of it at once: the envelope is written in one buffer */

    if (ngx_http_cwmp_xml_grow(&x, 512 + ns->len + (id ? 6 * id->len : 0)
                                   + (extra ? extra->len : 0) + len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the namespace was checked to be urn:dslforum-org:cwmp-1-N */

    ngx_http_cwmp_xml_literal(&x,
                              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                              CRLF
                              "<soap-env:Envelope"
                              " xmlns:soap-env=\"" NGX_HTTP_CWMP_SOAP_ENV "\""
                              " xmlns:soap-enc=\"http://schemas.xmlsoap.org"
                              "/soap/encoding/\""
                              " xmlns:xsd=\"http://www.w3.org/2001/"
                              "XMLSchema\""
                              " xmlns:xsi=\"http://www.w3.org/2001/"
                              "XMLSchema-instance\""
                              " xmlns:cwmp=\"");
    ngx_http_cwmp_xml_rawn(&x, ns->data, ns->len);
    ngx_http_cwmp_xml_literal(&x, "\">" CRLF);

    if (id || extra) {
        ngx_http_cwmp_xml_literal(&x, "<soap-env:Header>" CRLF);

        if (id) {
            ngx_http_cwmp_xml_literal(&x, "<cwmp:ID "
                                          "soap-env:mustUnderstand=\"1\">");
            ngx_http_cwmp_xml_text(&x, (char *) id->data, id->len);
            ngx_http_cwmp_xml_literal(&x, "</cwmp:ID>" CRLF);
        }

        if (extra) {
            ngx_http_cwmp_xml_rawn(&x, extra->data, extra->len);
        }

        ngx_http_cwmp_xml_literal(&x, "</soap-env:Header>" CRLF);
    }

    ngx_http_cwmp_xml_literal(&x, "<soap-env:Body>" CRLF);
    ngx_http_cwmp_xml_rawn(&x, body, len);
    ngx_http_cwmp_xml_literal(&x, "</soap-env:Body>" CRLF
                                  "</soap-env:Envelope>" CRLF);

    if (x.nomem || x.error) {
        return NGX_ERROR;
    }

    out->data = x.start;
    out->len = x.pos - x.start;

    return NGX_OK;
}


/* <name>escaped value</name> and a line break */

void
ngx_http_cwmp_xml_element(ngx_http_cwmp_xml_t *x, char *name,
    const char *value, size_t len)
{
    ngx_http_cwmp_xml_literal(x, "<");
    ngx_http_cwmp_xml_raw(x, name);
    ngx_http_cwmp_xml_literal(x, ">");
    ngx_http_cwmp_xml_text(x, value, len);
    ngx_http_cwmp_xml_literal(x, "</");
    ngx_http_cwmp_xml_raw(x, name);
    ngx_http_cwmp_xml_literal(x, ">" CRLF);
}


/* markup, as it is */

void
ngx_http_cwmp_xml_raw(ngx_http_cwmp_xml_t *x, char *s)
{
    ngx_http_cwmp_xml_rawn(x, (u_char *) s, ngx_strlen(s));
}


void
ngx_http_cwmp_xml_rawn(ngx_http_cwmp_xml_t *x, u_char *s, size_t len)
{
    if (ngx_http_cwmp_xml_grow(x, len) != NGX_OK) {
        return;
    }

    x->pos = ngx_cpymem(x->pos, s, len);
}


/* text: escaped; a control character XML cannot carry fails */

void
ngx_http_cwmp_xml_text(ngx_http_cwmp_xml_t *x, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((u_char) s[i] < 0x20 && s[i] != '\t' && s[i] != '\n'
            && s[i] != '\r')
        {
            x->error = "a string holds a control character XML cannot "
                       "carry";
            return;
        }
    }

    if (ngx_http_cwmp_xml_grow(x, len + ngx_escape_html(NULL, (u_char *) s,
                                                        len))
        != NGX_OK)
    {
        return;
    }

    x->pos = (u_char *) ngx_escape_html(x->pos, (u_char *) s, len);
}


/* room for len more bytes */

ngx_int_t
ngx_http_cwmp_xml_grow(ngx_http_cwmp_xml_t *x, size_t len)
{
    u_char  *p;
    size_t   size;

    if (x->nomem) {
        return NGX_ERROR;
    }

    if ((size_t) (x->end - x->pos) >= len) {
        return NGX_OK;
    }

    size = ngx_max((size_t) (x->end - x->start) * 2,
                   (size_t) (x->pos - x->start) + len + 1024);

    p = ngx_pnalloc(x->pool, size);
    if (p == NULL) {
        x->nomem = 1;
        return NGX_ERROR;
    }

    x->pos = x->start ? ngx_cpymem(p, x->start, x->pos - x->start) : p;
    x->start = p;
    x->end = p + size;

    return NGX_OK;
}
