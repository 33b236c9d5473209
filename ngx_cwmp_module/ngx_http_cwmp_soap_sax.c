
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The SAX reading of an Inform, the message of every session, straight
 * into the message with no tree to build and free.  The element path
 * decides what a text is for; the rules are those of the tree reading in
 * ngx_http_cwmp_soap.c (arguments matched by local name, unqualified or
 * in a CWMP namespace; the same caps, the same trimming, the same errors).
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/parserInternals.h>

#include "ngx_http_cwmp_soap.h"


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
    ngx_pool_t                  *pool;
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

    p = ngx_pnalloc(s->pool, len + 1);
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
            p->type.data = ngx_pnalloc(s->pool, p->type.len + 1);
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
            d = ngx_pnalloc(s->pool, s->len);
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

        p = ngx_pnalloc(s->pool, size);
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

ngx_int_t
ngx_http_cwmp_soap_sax(ngx_pool_t *pool, u_char *buf, size_t len,
    ngx_http_cwmp_msg_t *msg)
{
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
    s.pool = pool;
    s.msg = msg;

    if (ngx_array_init(&msg->events, pool, 4,
                       sizeof(ngx_http_cwmp_event_t))
        != NGX_OK
        || ngx_array_init(&msg->params, pool, 16,
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
        return ngx_http_cwmp_soap_xml_error(pool, ctxt, msg);
    }

    if (!s.seen_body) {
        ngx_str_set(&msg->error, "SOAP envelope without a Body");
        return NGX_DECLINED;
    }

    return NGX_OK;
}
