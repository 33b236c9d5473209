
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Tasks: the JSON documents other systems queue in Redis (GenieACS's NBI
 * vocabulary), turned into ACS requests; the CPE's answers turned into
 * results and parameter-cache updates.  No I/O.
 */


#ifndef _NGX_HTTP_CWMP_TASK_H_INCLUDED_
#define _NGX_HTTP_CWMP_TASK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_cwmp_soap.h"


#define NGX_HTTP_CWMP_MAX_TASK     (256 * 1024)


typedef struct {
    ngx_str_t                    status;        /* done, fault, expired */
    ngx_str_t                    result;        /* JSON */
    ngx_str_t                    answer;        /* the CPE's method */
    ngx_str_t                    request;       /* the ACS method sent */
    ngx_uint_t                   apply;         /* the task's writes hold */
    ngx_array_t                  params;        /* ngx_http_cwmp_param_t */
} ngx_http_cwmp_outcome_t;


/*
 * The ACS request for a queued task, as a SOAP Body element (types: the
 * cached types of its parameters, a JSON object, or empty): NGX_OK;
 * NGX_DECLINED when the task cannot be sent (broken JSON, unknown name,
 * bad arguments, expired), with *outcome saying so; NGX_ERROR.
 */
ngx_int_t ngx_http_cwmp_task_request(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_str_t *types, ngx_str_t *body, ngx_http_cwmp_outcome_t *outcome);

/* what the CPE's answer (a response or a SOAP Fault) means */
ngx_int_t ngx_http_cwmp_task_outcome(ngx_http_request_t *r,
    ngx_http_cwmp_msg_t *msg, ngx_http_cwmp_outcome_t *outcome);

/* a TransferComplete as the result of the transfer it reports */
ngx_int_t ngx_http_cwmp_task_transfer_complete(ngx_http_request_t *r,
    xmlNodePtr rpc, ngx_str_t *command_key, ngx_http_cwmp_outcome_t *outcome);

/* the compact JSON text of j, in the request's pool; j is released */
ngx_int_t ngx_http_cwmp_task_json(ngx_http_request_t *r, json_t *j,
    ngx_str_t *out);

/* a CPE request's arguments as JSON: {"CommandKey": "...", ...} */
ngx_int_t ngx_http_cwmp_task_args(ngx_http_request_t *r, xmlNodePtr rpc,
    ngx_str_t *out);


#endif /* _NGX_HTTP_CWMP_TASK_H_INCLUDED_ */
