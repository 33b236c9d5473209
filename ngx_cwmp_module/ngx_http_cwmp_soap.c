
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
#include <ngx_http.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/parserInternals.h>

#include "ngx_http_cwmp_soap.h"


#define NGX_HTTP_CWMP_SOAP_ENV   "http://schemas.xmlsoap.org/soap/envelope/"
#define NGX_HTTP_CWMP_NS_PREFIX  "urn:dslforum-org:cwmp-1-"
#define NGX_HTTP_CWMP_NS_DEFAULT "urn:dslforum-org:cwmp-1-0"

#define NGX_HTTP_CWMP_PARSE_OPTIONS                                          \
    (XML_PARSE_NONET|XML_PARSE_NOCDATA|XML_PARSE_NOBLANKS                    \
     |XML_PARSE_NOERROR|XML_PARSE_NOWARNING|XML_PARSE_COMPACT)

/* a worker's parser context is reused, and renewed now and then */
#define NGX_HTTP_CWMP_CTXT_USES    10000
#define NGX_HTTP_CWMP_CTXT_NAMES   4096     /* names its dictionary holds */


typedef struct {
    ngx_uint_t                   depth;
    ngx_uint_t                   elements;
    char                        *error;
} ngx_http_cwmp_soap_guard_t;


static void ngx_http_cwmp_soap_guard_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes);
static void ngx_http_cwmp_soap_guard_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri);
static void ngx_http_cwmp_soap_guard_doctype(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id);
static void ngx_http_cwmp_soap_free_doc(void *data);
static ngx_int_t ngx_http_cwmp_soap_sax(ngx_http_request_t *r, u_char *buf,
    size_t len, ngx_http_cwmp_msg_t *msg);
static xmlParserCtxtPtr ngx_http_cwmp_soap_ctxt(void);


static xmlParserCtxtPtr        ngx_http_cwmp_soap_parser;
static ngx_uint_t              ngx_http_cwmp_soap_parses;
static startElementNsSAX2Func  ngx_http_cwmp_soap_guard_start_orig;
static endElementNsSAX2Func    ngx_http_cwmp_soap_guard_end_orig;


static ngx_int_t ngx_http_cwmp_soap_is(xmlNodePtr node, char *uri,
    char *name);
static ngx_int_t ngx_http_cwmp_soap_is_cwmp_ns(const xmlChar *uri);
static void ngx_http_cwmp_soap_trim(ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_soap_envelope(ngx_http_request_t *r,
    ngx_str_t *ns, ngx_str_t *id, ngx_str_t *extra, ngx_str_t *body,
    ngx_str_t *out);


ngx_int_t
ngx_http_cwmp_soap_parse(ngx_http_request_t *r, u_char *buf, size_t len,
    ngx_http_cwmp_msg_t *msg)
{
    size_t                       n;
    ngx_int_t                    rc;
    xmlDocPtr                    doc;
    xmlNodePtr                   root, node, header, body, rpc;
    xmlErrorPtr                  err;
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

    rc = ngx_http_cwmp_soap_sax(r, buf, len, msg);
    if (rc != NGX_AGAIN) {
        return rc;
    }

    ngx_memzero(msg, sizeof(ngx_http_cwmp_msg_t));

    cln = ngx_pool_cleanup_add(r->pool, 0);
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
        err = xmlCtxtGetLastError(ctxt);

        if (err && err->message) {
            n = ngx_strlen(err->message);

            while (n && (err->message[n - 1] == '\n'
                         || err->message[n - 1] == ' '))
            {
                n--;
            }

            msg->error.data = ngx_pnalloc(r->pool, n);
            if (msg->error.data == NULL) {
                return NGX_ERROR;
            }

            msg->error.len = n;
            ngx_memcpy(msg->error.data, err->message, n);

        } else {
            ngx_str_set(&msg->error, "malformed XML");
        }

        return NGX_DECLINED;
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
                if (ngx_http_cwmp_soap_text(r->pool, node, &msg->id, 0)
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
                if (ngx_http_cwmp_soap_text(r->pool, node, &msg->versions, 1)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }

            } else if (ngx_strcmp(node->name, "SessionTimeout") == 0) {
                if (ngx_http_cwmp_soap_text(r->pool, node,
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


static void
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


static ngx_int_t
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


static void
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


/* use_version: UseCWMPVersion for a CPE that sent SupportedCWMPVersions */

ngx_int_t
ngx_http_cwmp_soap_inform_response(ngx_http_request_t *r,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *use_version, ngx_str_t *out)
{
    ngx_str_t  hdr;

    static ngx_str_t  body = ngx_string(
        "<cwmp:InformResponse>" CRLF
        "<MaxEnvelopes>1</MaxEnvelopes>" CRLF
        "</cwmp:InformResponse>" CRLF);

    if (use_version == NULL || use_version->len == 0) {
        return ngx_http_cwmp_soap_answer(r, msg, &body, out);
    }

    hdr.len = sizeof("<cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">"
                     "</cwmp:UseCWMPVersion>" CRLF) - 1 + use_version->len;
    hdr.data = ngx_pnalloc(r->pool, hdr.len);
    if (hdr.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(hdr.data, "<cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">"
                          "%V</cwmp:UseCWMPVersion>" CRLF, use_version);

    return ngx_http_cwmp_soap_envelope(r, &msg->ns,
                                       msg->has_id ? &msg->id : NULL, &hdr,
                                       &body, out);
}


ngx_int_t
ngx_http_cwmp_soap_fault(ngx_http_request_t *r, ngx_http_cwmp_msg_t *msg,
    ngx_uint_t code, char *text, ngx_str_t *out)
{
    size_t     len;
    ngx_str_t  body;

    len = sizeof("<soap-env:Fault>" CRLF
                 "<faultcode>Server</faultcode>" CRLF
                 "<faultstring>CWMP fault</faultstring>" CRLF
                 "<detail>" CRLF
                 "<cwmp:Fault>" CRLF
                 "<FaultCode></FaultCode>" CRLF
                 "<FaultString></FaultString>" CRLF
                 "</cwmp:Fault>" CRLF
                 "</detail>" CRLF
                 "</soap-env:Fault>" CRLF) - 1
          + NGX_INT_T_LEN + ngx_strlen(text);

    body.data = ngx_pnalloc(r->pool, len);
    if (body.data == NULL) {
        return NGX_ERROR;
    }

    /* 8003 is the CPE's fault, the others the ACS's (TR-069 Table A.5) */

    body.len = ngx_sprintf(body.data,
                           "<soap-env:Fault>" CRLF
                           "<faultcode>%s</faultcode>" CRLF
                           "<faultstring>CWMP fault</faultstring>" CRLF
                           "<detail>" CRLF
                           "<cwmp:Fault>" CRLF
                           "<FaultCode>%ui</FaultCode>" CRLF
                           "<FaultString>%s</FaultString>" CRLF
                           "</cwmp:Fault>" CRLF
                           "</detail>" CRLF
                           "</soap-env:Fault>" CRLF,
                           code == 8003 ? "Client" : "Server", code, text)
               - body.data;

    return ngx_http_cwmp_soap_answer(r, msg, &body, out);
}


/* the answer to a CPE request: its cwmp:ID, its namespace */

ngx_int_t
ngx_http_cwmp_soap_answer(ngx_http_request_t *r, ngx_http_cwmp_msg_t *msg,
    ngx_str_t *body, ngx_str_t *out)
{
    return ngx_http_cwmp_soap_envelope(r, &msg->ns,
                                       msg->has_id ? &msg->id : NULL, NULL,
                                       body, out);
}


/* an ACS request: a fresh cwmp:ID, in the CPE's namespace */

ngx_int_t
ngx_http_cwmp_soap_request(ngx_http_request_t *r, ngx_str_t *ns,
    ngx_str_t *id, ngx_str_t *body, ngx_str_t *out)
{
    return ngx_http_cwmp_soap_envelope(r, ns, id, NULL, body, out);
}


/* id NULL: no cwmp:ID; extra: more header elements; neither, no Header */

static ngx_int_t
ngx_http_cwmp_soap_envelope(ngx_http_request_t *r, ngx_str_t *ns,
    ngx_str_t *id, ngx_str_t *extra, ngx_str_t *body, ngx_str_t *out)
{
    u_char     *p;
    size_t      len;
    uintptr_t   escape;

    static u_char  start[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" CRLF
        "<soap-env:Envelope"
        " xmlns:soap-env=\"" NGX_HTTP_CWMP_SOAP_ENV "\""
        " xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\""
        " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
        " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
        " xmlns:cwmp=\"";
    static u_char  header[] =
        "<soap-env:Header>" CRLF;
    static u_char  id_start[] =
        "<cwmp:ID soap-env:mustUnderstand=\"1\">";
    static u_char  id_end[] =
        "</cwmp:ID>" CRLF;
    static u_char  header_end[] =
        "</soap-env:Header>" CRLF;
    static u_char  body_start[] =
        "<soap-env:Body>" CRLF;
    static u_char  end[] =
        "</soap-env:Body>" CRLF
        "</soap-env:Envelope>" CRLF;

    /* the namespace was checked to be urn:dslforum-org:cwmp-1-N */

    escape = id ? ngx_escape_html(NULL, id->data, id->len) : 0;

    len = sizeof(start) - 1 + ns->len + sizeof("\">" CRLF) - 1
          + sizeof(header) - 1 + sizeof(id_start) - 1 + (id ? id->len : 0)
          + escape + sizeof(id_end) - 1 + (extra ? extra->len : 0)
          + sizeof(header_end) - 1 + sizeof(body_start) - 1 + body->len
          + sizeof(end) - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_cpymem(p, start, sizeof(start) - 1);
    p = ngx_cpymem(p, ns->data, ns->len);
    p = ngx_cpymem(p, "\">" CRLF, sizeof("\">" CRLF) - 1);

    if (id || extra) {
        p = ngx_cpymem(p, header, sizeof(header) - 1);

        if (id) {
            p = ngx_cpymem(p, id_start, sizeof(id_start) - 1);
            p = (u_char *) ngx_escape_html(p, id->data, id->len);
            p = ngx_cpymem(p, id_end, sizeof(id_end) - 1);
        }

        if (extra) {
            p = ngx_cpymem(p, extra->data, extra->len);
        }

        p = ngx_cpymem(p, header_end, sizeof(header_end) - 1);
    }

    p = ngx_cpymem(p, body_start, sizeof(body_start) - 1);
    p = ngx_cpymem(p, body->data, body->len);
    p = ngx_cpymem(p, end, sizeof(end) - 1);

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * The SAX reading of an Inform.  The element path decides what a text is
 * for; the rules are those of the tree reading below (arguments matched
 * by local name, unqualified or in a CWMP namespace; the same caps, the
 * same trimming, the same errors).
 */

typedef enum {
    NGX_HTTP_CWMP_SAX_NONE = 0,
    NGX_HTTP_CWMP_SAX_ID,
    NGX_HTTP_CWMP_SAX_VERSIONS,
    NGX_HTTP_CWMP_SAX_TIMEOUT,
    NGX_HTTP_CWMP_SAX_FIELD,           /* a DeviceId field, or a scalar */
    NGX_HTTP_CWMP_SAX_EVENT_CODE,
    NGX_HTTP_CWMP_SAX_COMMAND_KEY,
    NGX_HTTP_CWMP_SAX_NAME,
    NGX_HTTP_CWMP_SAX_VALUE
} ngx_http_cwmp_sax_text_e;


typedef struct {
    ngx_http_cwmp_soap_guard_t   guard;        /* first: the guard's view */
    ngx_http_request_t          *r;
    ngx_http_cwmp_msg_t         *msg;
    ngx_uint_t                   in_header;
    ngx_uint_t                   in_body;
    ngx_uint_t                   seen_body;
    ngx_uint_t                   seen_rpc;
    ngx_uint_t                   not_inform;   /* the tree takes it */
    ngx_uint_t                   in_device;
    ngx_uint_t                   in_events;
    ngx_uint_t                   in_params;
    ngx_http_cwmp_event_t       *ev;
    ngx_http_cwmp_param_t       *param;
    ngx_uint_t                   has_name;
    ngx_uint_t                   has_value;
    ngx_http_cwmp_sax_text_e     text;
    ngx_str_t                   *field;
    ngx_uint_t                   trim;
    u_char                      *buf;
    size_t                       len;
    size_t                       cap;
    ngx_uint_t                   nomem;
} ngx_http_cwmp_sax_t;


static xmlParserCtxtPtr  ngx_http_cwmp_soap_sax_parser;
static ngx_uint_t        ngx_http_cwmp_soap_sax_parses;


static void
ngx_http_cwmp_sax_fail(xmlParserCtxtPtr ctxt, ngx_http_cwmp_sax_t *s,
    char *error)
{
    if (s->guard.error == NULL) {
        s->guard.error = error;
    }

    xmlStopParser(ctxt);
}


static u_char *
ngx_http_cwmp_sax_strdup(ngx_http_cwmp_sax_t *s, const xmlChar *str)
{
    u_char  *p;
    size_t   len;

    len = ngx_strlen(str);

    p = ngx_pnalloc(s->r->pool, len + 1);
    if (p == NULL) {
        s->nomem = 1;
        return (u_char *) "";
    }

    ngx_memcpy(p, str, len + 1);

    return p;
}


static ngx_int_t
ngx_http_cwmp_sax_is_arg(const xmlChar *uri)
{
    return uri == NULL || ngx_http_cwmp_soap_is_cwmp_ns(uri);
}


static void
ngx_http_cwmp_sax_collect(ngx_http_cwmp_sax_t *s,
    ngx_http_cwmp_sax_text_e text, ngx_str_t *field, ngx_uint_t trim)
{
    s->text = text;
    s->field = field;
    s->trim = trim;
    s->len = 0;
}


static void
ngx_http_cwmp_sax_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
    int                     i;
    size_t                  len;
    u_char                 *t, *colon;
    xmlParserCtxtPtr        ctxt;
    ngx_http_cwmp_msg_t    *msg;
    ngx_http_cwmp_sax_t    *s;
    ngx_http_cwmp_param_t  *p;

    ctxt = ctx;
    s = ctxt->_private;
    msg = s->msg;

    if (++s->guard.depth > NGX_HTTP_CWMP_MAX_DEPTH) {
        ngx_http_cwmp_sax_fail(ctxt, s, "XML nested too deep");
        return;
    }

    if (++s->guard.elements > NGX_HTTP_CWMP_MAX_ELEMENTS) {
        ngx_http_cwmp_sax_fail(ctxt, s, "too many XML elements");
        return;
    }

    s->text = NGX_HTTP_CWMP_SAX_NONE;

    switch (s->guard.depth) {

    case 1:
        if (uri == NULL || ngx_strcmp(uri, NGX_HTTP_CWMP_SOAP_ENV) != 0
            || ngx_strcmp(localname, "Envelope") != 0)
        {
            ngx_http_cwmp_sax_fail(ctxt, s, "not a SOAP 1.1 envelope");
        }

        return;

    case 2:
        s->in_header = uri && ngx_strcmp(uri, NGX_HTTP_CWMP_SOAP_ENV) == 0
                       && ngx_strcmp(localname, "Header") == 0;
        s->in_body = uri && ngx_strcmp(uri, NGX_HTTP_CWMP_SOAP_ENV) == 0
                     && ngx_strcmp(localname, "Body") == 0;

        if (s->in_body) {
            s->seen_body = 1;
        }

        return;

    case 3:
        if (s->in_header) {
            if (uri == NULL || !ngx_http_cwmp_soap_is_cwmp_ns(uri)) {
                return;
            }

            if (ngx_strcmp(localname, "ID") == 0) {
                msg->has_id = 1;
                msg->ns.data = ngx_http_cwmp_sax_strdup(s, uri);
                msg->ns.len = ngx_strlen(uri);
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_ID, &msg->id,
                                          0);

            } else if (ngx_strcmp(localname, "SupportedCWMPVersions") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_VERSIONS,
                                          &msg->versions, 1);

            } else if (ngx_strcmp(localname, "SessionTimeout") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_TIMEOUT,
                                          &msg->session_timeout, 1);

            } else if (ngx_strcmp(localname, "HoldRequests") == 0) {
                msg->hold_requests = 1;
            }

            return;
        }

        if (!s->in_body || s->seen_rpc) {
            return;
        }

        s->seen_rpc = 1;

        if (uri == NULL || !ngx_http_cwmp_soap_is_cwmp_ns(uri)
            || ngx_strcmp(localname, "Inform") != 0)
        {
            /* a Fault, another method, or an error: the tree decides */
            s->not_inform = 1;
            xmlStopParser(ctxt);
            return;
        }

        msg->type = NGX_HTTP_CWMP_MSG_INFORM;
        ngx_str_set(&msg->method, "Inform");
        msg->ns.data = ngx_http_cwmp_sax_strdup(s, uri);
        msg->ns.len = ngx_strlen(uri);
        return;

    case 4:
        if (!s->seen_rpc || !s->in_body || !ngx_http_cwmp_sax_is_arg(uri)) {
            return;
        }

        s->in_device = ngx_strcmp(localname, "DeviceId") == 0;
        s->in_events = ngx_strcmp(localname, "Event") == 0;
        s->in_params = ngx_strcmp(localname, "ParameterList") == 0;

        if (ngx_strcmp(localname, "CurrentTime") == 0) {
            ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                      &msg->current_time, 1);

        } else if (ngx_strcmp(localname, "RetryCount") == 0) {
            ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                      &msg->retry_count, 1);

        } else if (ngx_strcmp(localname, "MaxEnvelopes") == 0) {
            ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                      &msg->max_envelopes, 1);
        }

        return;

    case 5:
        if (!s->seen_rpc || !s->in_body || !ngx_http_cwmp_sax_is_arg(uri)) {
            return;
        }

        if (s->in_device) {
            if (ngx_strcmp(localname, "Manufacturer") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                          &msg->manufacturer, 1);

            } else if (ngx_strcmp(localname, "OUI") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                          &msg->oui, 1);

            } else if (ngx_strcmp(localname, "ProductClass") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                          &msg->product_class, 1);

            } else if (ngx_strcmp(localname, "SerialNumber") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_FIELD,
                                          &msg->serial_number, 1);
            }

            return;
        }

        if (s->in_events && ngx_strcmp(localname, "EventStruct") == 0) {
            if (msg->events.nelts == NGX_HTTP_CWMP_MAX_EVENTS) {
                ngx_http_cwmp_sax_fail(ctxt, s, "more than 64 events");
                return;
            }

            s->ev = ngx_array_push(&msg->events);
            if (s->ev == NULL) {
                s->nomem = 1;
                xmlStopParser(ctxt);
                return;
            }

            ngx_memzero(s->ev, sizeof(ngx_http_cwmp_event_t));
            return;
        }

        if (s->in_params
            && ngx_strcmp(localname, "ParameterValueStruct") == 0)
        {
            if (msg->params.nelts == NGX_HTTP_CWMP_MAX_PARAMS) {
                ngx_http_cwmp_sax_fail(ctxt, s, "too many parameters");
                return;
            }

            s->param = ngx_array_push(&msg->params);
            if (s->param == NULL) {
                s->nomem = 1;
                xmlStopParser(ctxt);
                return;
            }

            ngx_memzero(s->param, sizeof(ngx_http_cwmp_param_t));
            s->has_name = 0;
            s->has_value = 0;
        }

        return;

    case 6:
        if (!s->seen_rpc || !s->in_body || !ngx_http_cwmp_sax_is_arg(uri)) {
            return;
        }

        if (s->in_events && s->ev) {
            if (ngx_strcmp(localname, "EventCode") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_EVENT_CODE,
                                          &s->ev->code, 1);

            } else if (ngx_strcmp(localname, "CommandKey") == 0) {
                ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_COMMAND_KEY,
                                          &s->ev->command_key, 0);
            }

            return;
        }

        if (!s->in_params || s->param == NULL) {
            return;
        }

        p = s->param;

        if (ngx_strcmp(localname, "Name") == 0) {
            s->has_name = 1;
            ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_NAME, &p->name, 1);
            return;
        }

        if (ngx_strcmp(localname, "Value") != 0) {
            return;
        }

        s->has_value = 1;

        /* xsi:type="xs:int" (any prefix) is kept as "xsd:int" */

        for (i = 0; i < nb_attributes; i++) {
            if (attributes[5 * i + 2] == NULL
                || ngx_strcmp(attributes[5 * i], "type") != 0
                || ngx_strstr(attributes[5 * i + 2], "XMLSchema-instance")
                   == NULL)
            {
                continue;
            }

            t = (u_char *) attributes[5 * i + 3];
            len = (u_char *) attributes[5 * i + 4] - t;
            colon = ngx_strlchr(t, t + len, ':');

            if (colon) {
                len -= colon + 1 - t;
                t = colon + 1;
            }

            if (len == 0 || len > 32) {
                break;
            }

            p->type.len = sizeof("xsd:") - 1 + len;
            p->type.data = ngx_pnalloc(s->r->pool, p->type.len + 1);
            if (p->type.data == NULL) {
                s->nomem = 1;
                xmlStopParser(ctxt);
                return;
            }

            ngx_sprintf(p->type.data, "xsd:%*s%Z", len, t);
            break;
        }

        /* string values are kept as sent: leading spaces may be data */

        ngx_http_cwmp_sax_collect(s, NGX_HTTP_CWMP_SAX_VALUE, &p->value,
                                  p->type.len
                                  && ngx_strcmp(p->type.data, "xsd:string")
                                     != 0);
        return;

    default:
        return;
    }
}


static void
ngx_http_cwmp_sax_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
    u_char                 *d;
    ngx_str_t              *f;
    xmlParserCtxtPtr        ctxt;
    ngx_http_cwmp_sax_t    *s;
    ngx_http_cwmp_param_t  *p;

    ctxt = ctx;
    s = ctxt->_private;

    if (s->text != NGX_HTTP_CWMP_SAX_NONE) {

        /* the element's text, in the request's pool */

        f = s->field;
        f->len = s->len;
        f->data = (u_char *) "";

        if (s->len) {
            d = ngx_pnalloc(s->r->pool, s->len);
            if (d == NULL) {
                s->nomem = 1;
                xmlStopParser(ctxt);
                return;
            }

            ngx_memcpy(d, s->buf, s->len);
            f->data = d;
        }

        if (s->trim) {
            ngx_http_cwmp_soap_trim(f);
        }

        switch (s->text) {

        case NGX_HTTP_CWMP_SAX_ID:
            if (f->len > NGX_HTTP_CWMP_MAX_NAME) {
                ngx_http_cwmp_sax_fail(ctxt, s, "cwmp:ID too long");
            }
            break;

        case NGX_HTTP_CWMP_SAX_NAME:
            if (f->len == 0 || f->len > NGX_HTTP_CWMP_MAX_NAME) {
                ngx_http_cwmp_sax_fail(ctxt, s, "invalid parameter name");
            }
            break;

        case NGX_HTTP_CWMP_SAX_VALUE:
            if (f->len > NGX_HTTP_CWMP_MAX_VALUE) {
                ngx_http_cwmp_sax_fail(ctxt, s, "parameter value too long");
            }
            break;

        default:
            break;
        }

        s->text = NGX_HTTP_CWMP_SAX_NONE;
    }

    switch (s->guard.depth) {

    case 2:
        s->in_header = 0;

        if (s->in_body && !s->seen_rpc) {
            ngx_http_cwmp_sax_fail(ctxt, s, "empty SOAP Body");
        }

        s->in_body = 0;
        break;

    case 4:
        s->in_device = 0;
        s->in_events = 0;
        s->in_params = 0;
        break;

    case 5:
        if (s->ev) {
            if (s->ev->code.len == 0
                || s->ev->code.len > NGX_HTTP_CWMP_MAX_FIELD
                || s->ev->command_key.len > NGX_HTTP_CWMP_MAX_FIELD)
            {
                ngx_http_cwmp_sax_fail(ctxt, s, "invalid EventStruct");
            }

            s->ev = NULL;
        }

        p = s->param;

        if (p) {
            if (!s->has_name || !s->has_value) {
                ngx_http_cwmp_sax_fail(ctxt, s, "ParameterValueStruct "
                                       "without Name or Value");
            }

            s->param = NULL;
        }

        break;

    default:
        break;
    }

    s->guard.depth--;
}


static void
ngx_http_cwmp_sax_characters(void *ctx, const xmlChar *ch, int len)
{
    u_char               *p;
    size_t                size;
    xmlParserCtxtPtr      ctxt;
    ngx_http_cwmp_sax_t  *s;

    ctxt = ctx;
    s = ctxt->_private;

    if (s->text == NGX_HTTP_CWMP_SAX_NONE || len <= 0) {
        return;
    }

    if (s->len + len > NGX_HTTP_CWMP_MAX_VALUE + 1) {
        /* over any cap: the end tag refuses it, no need to keep more */
        len = (int) (NGX_HTTP_CWMP_MAX_VALUE + 1 - s->len);
        if (len <= 0) {
            return;
        }
    }

    if (s->len + len > s->cap) {
        size = ngx_max(s->cap * 2, s->len + len + 256);

        p = ngx_pnalloc(s->r->pool, size);
        if (p == NULL) {
            s->nomem = 1;
            xmlStopParser(ctxt);
            return;
        }

        if (s->len) {
            ngx_memcpy(p, s->buf, s->len);
        }

        s->buf = p;
        s->cap = size;
    }

    ngx_memcpy(s->buf + s->len, ch, len);
    s->len += len;
}


/*
 * NGX_OK: an Inform, in msg; NGX_DECLINED: refused, msg->error says why;
 * NGX_AGAIN: not an Inform (the tree reads it); NGX_ERROR.
 */

static ngx_int_t
ngx_http_cwmp_soap_sax(ngx_http_request_t *r, u_char *buf, size_t len,
    ngx_http_cwmp_msg_t *msg)
{
    size_t                n;
    xmlErrorPtr           err;
    xmlSAXHandler         sax;
    xmlParserCtxtPtr      ctxt;
    ngx_http_cwmp_sax_t   s;

    ctxt = ngx_http_cwmp_soap_sax_parser;

    if (ctxt && ngx_http_cwmp_soap_sax_parses >= NGX_HTTP_CWMP_CTXT_USES) {
        xmlFreeParserCtxt(ctxt);
        ctxt = NULL;
    }

    if (ctxt == NULL) {
        ngx_memzero(&sax, sizeof(xmlSAXHandler));

        sax.initialized = XML_SAX2_MAGIC;
        sax.startElementNs = ngx_http_cwmp_sax_start;
        sax.endElementNs = ngx_http_cwmp_sax_end;
        sax.characters = ngx_http_cwmp_sax_characters;
        sax.cdataBlock = ngx_http_cwmp_sax_characters;
        sax.internalSubset = ngx_http_cwmp_soap_guard_doctype;
        sax.externalSubset = ngx_http_cwmp_soap_guard_doctype;

        /* libxml2 2.9 has no xmlNewSAXParserCtxt(): ours replace its own */

        ctxt = xmlNewParserCtxt();
        if (ctxt == NULL) {
            ngx_http_cwmp_soap_sax_parser = NULL;
            return NGX_ERROR;
        }

        ngx_memcpy(ctxt->sax, &sax, sizeof(xmlSAXHandler));
        ctxt->userData = ctxt;

        ngx_http_cwmp_soap_sax_parser = ctxt;
        ngx_http_cwmp_soap_sax_parses = 0;
    }

    ngx_http_cwmp_soap_sax_parses++;

    ngx_memzero(&s, sizeof(ngx_http_cwmp_sax_t));
    s.r = r;
    s.msg = msg;

    if (ngx_array_init(&msg->events, r->pool, 4,
                       sizeof(ngx_http_cwmp_event_t))
        != NGX_OK
        || ngx_array_init(&msg->params, r->pool, 16,
                          sizeof(ngx_http_cwmp_param_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_str_set(&msg->ns, NGX_HTTP_CWMP_NS_DEFAULT);

    xmlCtxtResetLastError(ctxt);
    ctxt->_private = &s;

    (void) xmlCtxtReadMemory(ctxt, (const char *) buf, (int) len, NULL, NULL,
                             NGX_HTTP_CWMP_PARSE_OPTIONS);

    ctxt->_private = NULL;

    if (s.nomem) {
        return NGX_ERROR;
    }

    if (s.not_inform) {
        return NGX_AGAIN;
    }

    if (s.guard.error) {
        msg->error.data = (u_char *) s.guard.error;
        msg->error.len = ngx_strlen(s.guard.error);
        return NGX_DECLINED;
    }

    if (!ctxt->wellFormed) {
        err = xmlCtxtGetLastError(ctxt);

        if (err == NULL || err->message == NULL) {
            ngx_str_set(&msg->error, "malformed XML");
            return NGX_DECLINED;
        }

        n = ngx_strlen(err->message);

        while (n && (err->message[n - 1] == '\n'
                     || err->message[n - 1] == ' '))
        {
            n--;
        }

        msg->error.data = ngx_pnalloc(r->pool, n);
        if (msg->error.data == NULL) {
            return NGX_ERROR;
        }

        msg->error.len = n;
        ngx_memcpy(msg->error.data, err->message, n);

        return NGX_DECLINED;
    }

    if (!s.seen_body) {
        ngx_str_set(&msg->error, "SOAP envelope without a Body");
        return NGX_DECLINED;
    }

    return NGX_OK;
}
