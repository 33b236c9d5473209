
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_FLEET_H_INCLUDED_
#define _NGX_HTTP_CWMP_FLEET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_store.h"


/*
 * The fleet's API in the configuration: which parameters are indexed
 * (cwmp_index), which events are emitted (cwmp_events), the lifetimes and
 * margins of the Redis API (redis-schema/README.md).  The store carries
 * them to the device's scripts (lib/fleet.lua).
 */

void ngx_http_cwmp_fleet_create_conf(ngx_http_cwmp_store_fleet_t *fleet);
char *ngx_http_cwmp_fleet_init_conf(ngx_conf_t *cf,
    ngx_http_cwmp_store_fleet_t *fleet);

char *ngx_http_cwmp_fleet_index(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cwmp_fleet_events(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cwmp_fleet_time_or_off(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_CWMP_FLEET_H_INCLUDED_ */
