
/*
 * Copyright (C) ngx_cwmp authors
 *
 * SOAP envelopes: hardened libxml2 parsing of what CPEs send, and the
 * envelopes the ACS answers with.
 */


#ifndef _NGX_HTTP_CWMP_SOAP_H_INCLUDED_
#define _NGX_HTTP_CWMP_SOAP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

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
 * NGX_OK: msg is filled in; NGX_DECLINED: not an acceptable message,
 * msg->error says why; NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_cwmp_soap_parse(ngx_http_request_t *r, u_char *buf,
    size_t len, ngx_http_cwmp_msg_t *msg);

ngx_int_t ngx_http_cwmp_soap_inform_response(ngx_http_request_t *r,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *use_version, ngx_str_t *out);
ngx_int_t ngx_http_cwmp_soap_fault(ngx_http_request_t *r,
    ngx_http_cwmp_msg_t *msg, ngx_uint_t code, char *text, ngx_str_t *out);
ngx_int_t ngx_http_cwmp_soap_request(ngx_http_request_t *r, ngx_str_t *ns,
    ngx_str_t *id, ngx_str_t *body, ngx_str_t *out);
ngx_int_t ngx_http_cwmp_soap_answer(ngx_http_request_t *r,
    ngx_http_cwmp_msg_t *msg, ngx_str_t *body, ngx_str_t *out);

/* walking a parsed message: elements only, arguments by local name */
xmlNodePtr ngx_http_cwmp_soap_first(xmlNodePtr parent);
xmlNodePtr ngx_http_cwmp_soap_next(xmlNodePtr node);
xmlNodePtr ngx_http_cwmp_soap_arg(xmlNodePtr parent, char *name);
ngx_int_t ngx_http_cwmp_soap_is_arg(xmlNodePtr node, char *name);
ngx_int_t ngx_http_cwmp_soap_text(ngx_pool_t *pool, xmlNodePtr node,
    ngx_str_t *text, ngx_uint_t trim);
ngx_int_t ngx_http_cwmp_soap_param_type(ngx_pool_t *pool, xmlNodePtr value,
    ngx_str_t *type);


#endif /* _NGX_HTTP_CWMP_SOAP_H_INCLUDED_ */
