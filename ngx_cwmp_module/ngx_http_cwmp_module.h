
/*
 * Copyright (C) ngx_cwmp authors
 */


#ifndef _NGX_HTTP_CWMP_MODULE_H_INCLUDED_
#define _NGX_HTTP_CWMP_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_redis.h"
#include "ngx_http_cwmp_store.h"
#include "ngx_http_cwmp_policy.h"
#include "ngx_http_cwmp_connreq.h"
#include "ngx_http_cwmp_upload.h"
#include "ngx_http_cwmp_tr143.h"
#include "ngx_http_cwmp_metrics.h"


typedef struct {
    ngx_http_cwmp_redis_conf_t   redis;
    ngx_http_cwmp_store_t        store;         /* the prefix, this worker's
                                                   node */
    ngx_uint_t                   enabled;       /* a location has "cwmp" */
    ngx_http_cwmp_policies_t     policies;
    ngx_http_cwmp_connreq_conf_t connreq;

    /* CPE authentication, the same for every location */
    ngx_str_t                    auth_secret_file;
    ngx_str_t                    auth_secret;   /* the nonces' HMAC key */
    ngx_msec_t                   auth_nonce_timeout;
    ngx_uint_t                   auth_limit_device;
    ngx_uint_t                   auth_limit_addr;
    ngx_msec_t                   auth_window;

    /* the file store: the URL CPEs download stored files from */
    ngx_str_t                    files_url;     /* empty: no store */
    time_t                       files_ttl;     /* a signed URL's life */

    /* the upload receiver: the URL CPEs upload to */
    ngx_http_cwmp_upload_conf_t  uploads;

    ngx_shm_zone_t              *metrics_zone;  /* cwmp_metrics_zone */
} ngx_http_cwmp_main_conf_t;


typedef struct {
    ngx_flag_t                   enable;
    size_t                       max_body_size;
    ngx_msec_t                   session_timeout;
    time_t                       session_takeover;
    time_t                       transfer_timeout;
    time_t                       retry_after;
    ngx_int_t                    shed_pending;  /* 0: never shed */
    ngx_uint_t                   auth;          /* NGX_HTTP_CWMP_AUTH_*,
                                                   0: off */
    ngx_uint_t                   auth_username; /* NGX_HTTP_CWMP_AUTH_ID_* */
    ngx_uint_t                   auth_algorithms[3];  /* offered, in order,
                                                   NGX_HTTP_CWMP_DIGEST_*;
                                                   0 ends; none: unset */
    ngx_str_t                    auth_realm;
    ngx_str_t                    auth_bootstrap;    /* empty: none */
    ngx_flag_t                   file_access;   /* signed URLs only */
    ngx_str_t                    upload_dir;    /* cwmp_upload_receiver */
    off_t                        tr143_max;     /* cwmp_tr143_download,
                                                   _upload; 0: neither */
} ngx_http_cwmp_loc_conf_t;


extern ngx_module_t  ngx_http_cwmp_module;


/* $cwmp_* (ngx_http_cwmp_variables.c) */
ngx_int_t ngx_http_cwmp_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_CWMP_MODULE_H_INCLUDED_ */
