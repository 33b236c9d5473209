
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_TR143_H_INCLUDED_
#define _NGX_HTTP_CWMP_TR143_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* cwmp_tr143_download [max], cwmp_tr143_upload [max]: a location's */
char *ngx_http_cwmp_tr143(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_CWMP_TR143_H_INCLUDED_ */
