
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The CPE's answers turned into outcomes (ngx_http_cwmp_outcome.c).  No
 * I/O.
 */


#ifndef _NGX_HTTP_CWMP_OUTCOME_H_INCLUDED_
#define _NGX_HTTP_CWMP_OUTCOME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_task.h"


/* what the CPE's answer (a response or a SOAP Fault) means */
ngx_int_t ngx_http_cwmp_outcome_read(ngx_pool_t *pool,
    ngx_http_cwmp_msg_t *msg, ngx_http_cwmp_outcome_t *outcome);

/* a TransferComplete as the result of the transfer it reports */
ngx_int_t ngx_http_cwmp_outcome_transfer(ngx_pool_t *pool, xmlNodePtr rpc,
    ngx_str_t *command_key, ngx_http_cwmp_outcome_t *outcome);

/* a CPE request's arguments as JSON: {"CommandKey": "...", ...} */
ngx_int_t ngx_http_cwmp_outcome_args(ngx_pool_t *pool, xmlNodePtr rpc,
    ngx_str_t *out);


#endif /* _NGX_HTTP_CWMP_OUTCOME_H_INCLUDED_ */
