
/*
 * Copyright (C) ngx_cwmp authors
 *
 * SOAP envelopes: hardened libxml2 parsing of what CPEs send (an Inform by
 * SAX, ngx_http_cwmp_soap_sax.c; anything else as a tree), and the one XML
 * writer, for every envelope the ACS answers with.  No I/O: a pool.
 */


#ifndef _NGX_HTTP_CWMP_SOAP_H_INCLUDED_
#define _NGX_HTTP_CWMP_SOAP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <libxml/parser.h>
#include <libxml/tree.h>


#define NGX_HTTP_CWMP_MAX_DEPTH        32
#define NGX_HTTP_CWMP_MAX_ELEMENTS     200000
#define NGX_HTTP_CWMP_MAX_EVENTS       64
#define NGX_HTTP_CWMP_MAX_PARAMS       4096
#define NGX_HTTP_CWMP_MAX_FIELD        64      /* DeviceId fields, XSD */
#define NGX_HTTP_CWMP_MAX_NAME         256     /* parameter names, XSD */
#define NGX_HTTP_CWMP_MAX_VALUE        65536


typedef enum {
    NGX_HTTP_CWMP_MSG_REQUEST = 0,       /* a CPE -> ACS method */
    NGX_HTTP_CWMP_MSG_INFORM,
    NGX_HTTP_CWMP_MSG_RESPONSE,          /* "...Response" from the CPE */
    NGX_HTTP_CWMP_MSG_FAULT              /* a SOAP Fault from the CPE */
} ngx_http_cwmp_msg_type_e;


typedef struct {
    ngx_str_t                    code;
    ngx_str_t                    command_key;
} ngx_http_cwmp_event_t;


typedef struct {
    ngx_str_t                    name;
    ngx_str_t                    value;
    ngx_str_t                    type;          /* "xsd:int", or empty */
} ngx_http_cwmp_param_t;


typedef struct {
    ngx_http_cwmp_msg_type_e     type;
    ngx_str_t                    method;        /* the Body's element */
    ngx_str_t                    ns;            /* the CPE's cwmp URI */
    ngx_str_t                    id;            /* cwmp:ID */
    ngx_uint_t                   has_id;
    ngx_str_t                    versions;      /* SupportedCWMPVersions */
    ngx_str_t                    session_timeout;  /* SessionTimeout, s */
    ngx_uint_t                   hold_requests;

    /* Inform */
    ngx_str_t                    manufacturer;
    ngx_str_t                    oui;
    ngx_str_t                    product_class;
    ngx_str_t                    serial_number;
    ngx_array_t                  events;        /* ngx_http_cwmp_event_t */
    ngx_array_t                  params;        /* ngx_http_cwmp_param_t */
    ngx_str_t                    current_time;
    ngx_str_t                    retry_count;
    ngx_str_t                    max_envelopes;

    xmlNodePtr                   rpc;           /* the Body's element */

    ngx_str_t                    error;         /* why it was refused */
} ngx_http_cwmp_msg_t;


/*
 * The XML writer: text appended to a buffer in the pool that grows as
 * needed.  Out of memory sets nomem, a string XML cannot carry sets error;
 * both make later writes no-ops, so a writer checks once, at the end.
 */

typedef struct {
    ngx_pool_t                  *pool;
    u_char                      *start;
    u_char                      *pos;
    u_char                      *end;
    char                        *error;         /* why the text is bad */
    ngx_uint_t                   nomem;
    void                        *data;          /* the writer's user's */
} ngx_http_cwmp_xml_t;


/*
 * NGX_OK: msg is filled in; NGX_DECLINED: not an acceptable message,
 * msg->error says why; NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_cwmp_soap_parse(ngx_pool_t *pool, u_char *buf,
    size_t len, ngx_http_cwmp_msg_t *msg);

/* the envelopes: an answer to msg (its cwmp:ID, its namespace) */
ngx_int_t ngx_http_cwmp_soap_inform_response(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *use_version, ngx_str_t *out);
ngx_int_t ngx_http_cwmp_soap_fault(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_uint_t code, char *text, ngx_str_t *out);
ngx_int_t ngx_http_cwmp_soap_response(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *next_url, ngx_str_t *out);
ngx_int_t ngx_http_cwmp_soap_methods(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, char **methods, ngx_str_t *out);

/* an ACS request: a fresh cwmp:ID, in the CPE's namespace */
ngx_int_t ngx_http_cwmp_soap_request(ngx_pool_t *pool, ngx_str_t *ns,
    ngx_str_t *id, ngx_str_t *body, ngx_str_t *out);

#define ngx_http_cwmp_xml_literal(x, s)                                      \
    ngx_http_cwmp_xml_rawn(x, (u_char *) s, sizeof(s) - 1)

void ngx_http_cwmp_xml_raw(ngx_http_cwmp_xml_t *x, char *s);
void ngx_http_cwmp_xml_rawn(ngx_http_cwmp_xml_t *x, u_char *s, size_t len);
void ngx_http_cwmp_xml_text(ngx_http_cwmp_xml_t *x, const char *s,
    size_t len);
void ngx_http_cwmp_xml_element(ngx_http_cwmp_xml_t *x, char *name,
    const char *value, size_t len);
ngx_int_t ngx_http_cwmp_xml_grow(ngx_http_cwmp_xml_t *x, size_t len);

/* walking a parsed message: elements only, arguments by local name */
xmlNodePtr ngx_http_cwmp_soap_first(xmlNodePtr parent);
xmlNodePtr ngx_http_cwmp_soap_next(xmlNodePtr node);
xmlNodePtr ngx_http_cwmp_soap_arg(xmlNodePtr parent, char *name);
ngx_int_t ngx_http_cwmp_soap_is_arg(xmlNodePtr node, char *name);
ngx_int_t ngx_http_cwmp_soap_text(ngx_pool_t *pool, xmlNodePtr node,
    ngx_str_t *text, ngx_uint_t trim);
ngx_int_t ngx_http_cwmp_soap_param_type(ngx_pool_t *pool, xmlNodePtr value,
    ngx_str_t *type);


/* what the two readers share (ngx_http_cwmp_soap.c, _soap_sax.c) */

#define NGX_HTTP_CWMP_SOAP_ENV   "http://schemas.xmlsoap.org/soap/envelope/"
#define NGX_HTTP_CWMP_NS_PREFIX  "urn:dslforum-org:cwmp-1-"
#define NGX_HTTP_CWMP_NS_DEFAULT "urn:dslforum-org:cwmp-1-0"

#define NGX_HTTP_CWMP_PARSE_OPTIONS                                          \
    (XML_PARSE_NONET|XML_PARSE_NOCDATA|XML_PARSE_NOBLANKS                    \
     |XML_PARSE_NOERROR|XML_PARSE_NOWARNING|XML_PARSE_COMPACT)

/* a worker's parser context is reused, and renewed now and then */
#define NGX_HTTP_CWMP_CTXT_USES    10000


/* the caps, counted from SAX callbacks (the first member of _private) */

typedef struct {
    ngx_uint_t                   depth;
    ngx_uint_t                   elements;
    char                        *error;
} ngx_http_cwmp_soap_guard_t;


/* an Inform by SAX: NGX_OK, NGX_DECLINED, NGX_AGAIN (not one), NGX_ERROR */
ngx_int_t ngx_http_cwmp_soap_sax(ngx_pool_t *pool, u_char *buf, size_t len,
    ngx_http_cwmp_msg_t *msg);
void ngx_http_cwmp_soap_guard_doctype(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id);
ngx_int_t ngx_http_cwmp_soap_is_cwmp_ns(const xmlChar *uri);
void ngx_http_cwmp_soap_trim(ngx_str_t *s);
ngx_int_t ngx_http_cwmp_soap_xml_error(ngx_pool_t *pool,
    xmlParserCtxtPtr ctxt, ngx_http_cwmp_msg_t *msg);


#endif /* _NGX_HTTP_CWMP_SOAP_H_INCLUDED_ */
