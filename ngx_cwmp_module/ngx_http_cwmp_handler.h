
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_HANDLER_H_INCLUDED_
#define _NGX_HTTP_CWMP_HANDLER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the content handler of a "cwmp" location */
ngx_int_t ngx_http_cwmp_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_CWMP_HANDLER_H_INCLUDED_ */
