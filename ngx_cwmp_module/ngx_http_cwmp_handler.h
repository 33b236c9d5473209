
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_HANDLER_H_INCLUDED_
#define _NGX_HTTP_CWMP_HANDLER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_cwmp_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_cwmp_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_cwmp_handler_init_process(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_CWMP_HANDLER_H_INCLUDED_ */
