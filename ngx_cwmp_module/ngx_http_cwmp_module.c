
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The module: directives, configuration, and the per-worker Redis
 * connection's life.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <libxml/parser.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_access.h"
#include "ngx_http_cwmp_auth.h"
#include "ngx_http_cwmp_fleet.h"
#include "ngx_http_cwmp_file_access.h"
#include "ngx_http_cwmp_handler.h"
#include "ngx_http_cwmp_util.h"


static void *ngx_http_cwmp_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_cwmp_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_cwmp_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_cwmp_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_cwmp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_cwmp_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_cwmp_redis_address(ngx_conf_t *cf,
    ngx_http_cwmp_redis_addr_t *addr, ngx_str_t *value);
static ngx_int_t ngx_http_cwmp_redis_seeds(ngx_conf_t *cf,
    ngx_http_cwmp_redis_conf_t *rc, ngx_str_t *list);
static char *ngx_http_cwmp_shed_pending(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cwmp_policy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cwmp_connreq_allow(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cwmp_connreq_credentials(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_cwmp_connreq_transports(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_cwmp_connreq_udp(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_cwmp_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_cwmp_init_process(ngx_cycle_t *cycle);
static void ngx_http_cwmp_exit_process(ngx_cycle_t *cycle);


#define NGX_HTTP_CWMP_REDIS_DEFAULT  "127.0.0.1:6379"
#define NGX_HTTP_CWMP_SHED_PENDING   256


static ngx_conf_enum_t  ngx_http_cwmp_auth_usernames[] = {
    { ngx_string("device_id"), NGX_HTTP_CWMP_AUTH_ID_DEVICE },
    { ngx_string("serial"), NGX_HTTP_CWMP_AUTH_ID_SERIAL },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_cwmp_retry_after_bounds = {
    ngx_conf_check_num_bounds, 1, 86400
};


static ngx_command_t  ngx_http_cwmp_commands[] = {

    { ngx_string("cwmp"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cwmp,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cwmp_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("cwmp_session_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, session_timeout),
      NULL },

    { ngx_string("cwmp_session_takeover"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, session_takeover),
      NULL },

    { ngx_string("cwmp_transfer_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, transfer_timeout),
      NULL },

    { ngx_string("cwmp_retry_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, retry_after),
      &ngx_http_cwmp_retry_after_bounds },

    { ngx_string("cwmp_policy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_cwmp_policy,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_policy_backoff_cap"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, policies.backoff_cap),
      NULL },

    { ngx_string("cwmp_index"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_cwmp_fleet_index,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet),
      NULL },

    { ngx_string("cwmp_events"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cwmp_fleet_events,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet),
      NULL },

    { ngx_string("cwmp_task_status_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet.status_ttl),
      NULL },

    { ngx_string("cwmp_online_interval"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet.online_interval),
      NULL },

    { ngx_string("cwmp_online_margin"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet.online_margin),
      NULL },

    { ngx_string("cwmp_stream_retention"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_fleet_time_or_off,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet.retention),
      NULL },

    { ngx_string("cwmp_retire_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_fleet_time_or_off,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet.retire),
      NULL },

    { ngx_string("cwmp_files_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, files_url),
      NULL },

    { ngx_string("cwmp_files_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, files_ttl),
      NULL },

    { ngx_string("cwmp_uploads_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, uploads.url),
      NULL },

    { ngx_string("cwmp_uploads_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, uploads.ttl),
      NULL },

    { ngx_string("cwmp_uploads_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, uploads.max_size),
      NULL },

    { ngx_string("cwmp_uploads_kept"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, uploads.kept),
      NULL },

    { ngx_string("cwmp_uploads_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_cwmp_upload_credentials,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, uploads),
      NULL },

    { ngx_string("cwmp_upload_receiver"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_upload_receiver,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_metrics_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_metrics_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, metrics_zone),
      NULL },

    { ngx_string("cwmp_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cwmp_metrics_location,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_tr143_download"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_cwmp_tr143,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_tr143_upload"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_cwmp_tr143,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_file_access"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, file_access),
      NULL },

    { ngx_string("cwmp_supported_data_model"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, store.fleet.supported_data_model),
      NULL },

    { ngx_string("cwmp_connreq"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.enable),
      NULL },

    { ngx_string("cwmp_connreq_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.timeout),
      NULL },

    { ngx_string("cwmp_connreq_window"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.window),
      NULL },

    { ngx_string("cwmp_connreq_basic"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.basic),
      NULL },

    { ngx_string("cwmp_xmpp"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_cwmp_xmpp,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.xmpp),
      NULL },

    { ngx_string("cwmp_xmpp_allow"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cwmp_xmpp_allow,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.xmpp),
      NULL },

    { ngx_string("cwmp_connreq_udp"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_connreq_udp,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_connreq_transports"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cwmp_connreq_transports,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_connreq_claim_after"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.claim_after),
      NULL },

    { ngx_string("cwmp_connreq_max"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, connreq.max),
      NULL },

    { ngx_string("cwmp_connreq_allow"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_connreq_allow,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_connreq_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_cwmp_connreq_credentials,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_shed_pending"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_shed_pending,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, shed_pending),
      NULL },

    { ngx_string("cwmp_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_cwmp_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_auth_digest_algorithms"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_cwmp_auth_algorithms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_auth_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, auth_realm),
      NULL },

    { ngx_string("cwmp_auth_username"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cwmp_loc_conf_t, auth_username),
      &ngx_http_cwmp_auth_usernames },

    { ngx_string("cwmp_auth_bootstrap"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cwmp_auth_bootstrap,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_auth_failures"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3,
      ngx_http_cwmp_auth_failures,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_auth_nonce_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, auth_nonce_timeout),
      NULL },

    { ngx_string("cwmp_auth_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_cwmp_main_conf_t, auth_secret_file),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cwmp_module_ctx = {
    ngx_http_cwmp_add_variables,           /* preconfiguration */
    ngx_http_cwmp_init,                    /* postconfiguration */

    ngx_http_cwmp_create_main_conf,        /* create main configuration */
    ngx_http_cwmp_init_main_conf,          /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cwmp_create_loc_conf,         /* create location configuration */
    ngx_http_cwmp_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_cwmp_module = {
    NGX_MODULE_V1,
    &ngx_http_cwmp_module_ctx,             /* module context */
    ngx_http_cwmp_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_cwmp_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_cwmp_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_cwmp_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cwmp_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->redis.name = { 0, NULL };
     *     mcf->redis.addr = { 0 };
     *     mcf->redis.mode = NGX_HTTP_CWMP_REDIS_SINGLE;
     *     mcf->redis.user = { 0, NULL };
     *     mcf->redis.password = { 0, NULL };
     *     mcf->store.prefix = { 0, NULL };
     *     mcf->store.redis = NULL;
     *     mcf->enabled = 0;
     */

    mcf->redis.db = NGX_CONF_UNSET_UINT;
    mcf->redis.connect_timeout = NGX_CONF_UNSET_MSEC;
    mcf->redis.timeout = NGX_CONF_UNSET_MSEC;
    mcf->redis.queue_max = NGX_CONF_UNSET_UINT;
    mcf->redis.wait_replicas = NGX_CONF_UNSET_UINT;
    mcf->redis.wait_timeout = NGX_CONF_UNSET_MSEC;
    mcf->policies.backoff_cap = NGX_CONF_UNSET;
    mcf->auth_nonce_timeout = NGX_CONF_UNSET_MSEC;
    mcf->auth_limit_device = NGX_CONF_UNSET_UINT;
    mcf->auth_limit_addr = NGX_CONF_UNSET_UINT;
    mcf->auth_window = NGX_CONF_UNSET_MSEC;
    mcf->connreq.enable = NGX_CONF_UNSET;
    mcf->connreq.timeout = NGX_CONF_UNSET_MSEC;
    mcf->connreq.window = NGX_CONF_UNSET_MSEC;
    mcf->connreq.max = NGX_CONF_UNSET_UINT;
    mcf->connreq.claim_after = NGX_CONF_UNSET_MSEC;
    mcf->connreq.basic = NGX_CONF_UNSET;
    ngx_http_cwmp_fleet_create_conf(&mcf->store.fleet);
    mcf->files_ttl = NGX_CONF_UNSET;
    ngx_http_cwmp_upload_create_conf(&mcf->uploads);

    if (ngx_array_init(&mcf->policies.policies, cf->pool, 4,
                       sizeof(ngx_http_cwmp_policy_t *)) != NGX_OK
        || ngx_array_init(&mcf->policies.wanted, cf->pool, 8,
                          sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&mcf->policies.campaigns, cf->pool, 1,
                          sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&mcf->policies.objects, cf->pool, 1,
                          sizeof(ngx_str_t)) != NGX_OK)
    {
        return NULL;
    }

    return mcf;
}


static char *
ngx_http_cwmp_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_str_t                   addr = ngx_string(NGX_HTTP_CWMP_REDIS_DEFAULT);
    ngx_http_cwmp_xmpp_conf_t  *xc;

    if (mcf->redis.name.len == 0) {
        mcf->redis.name = addr;

        if (ngx_http_cwmp_redis_address(cf, &mcf->redis.addr, &addr)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (mcf->store.prefix.data == NULL) {
        ngx_str_set(&mcf->store.prefix, "cwmp:");
    }

    if (ngx_http_cwmp_fleet_init_conf(cf, &mcf->store.fleet) != NGX_CONF_OK
        || ngx_http_cwmp_upload_init_conf(cf, &mcf->uploads) != NGX_CONF_OK
        || ngx_http_cwmp_metrics_init_conf(cf, mcf->metrics_zone,
                                           mcf->policies.policies.nelts)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(mcf->files_ttl, 86400);

    if (mcf->files_url.len
        && ngx_http_cwmp_file_base_valid(&mcf->files_url) != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"cwmp_files_url\" \"%V\": an http:// "
                           "or https:// URL ending in \"/\" expected",
                           &mcf->files_url);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(mcf->redis.db, 0);
    ngx_conf_init_msec_value(mcf->redis.connect_timeout, 1000);
    ngx_conf_init_msec_value(mcf->redis.timeout, 1000);
    ngx_conf_init_uint_value(mcf->redis.queue_max, 1024);
    ngx_conf_init_uint_value(mcf->redis.wait_replicas, 0);
    ngx_conf_init_msec_value(mcf->redis.wait_timeout, 100);
    ngx_conf_init_value(mcf->policies.backoff_cap, 86400);
    ngx_conf_init_value(mcf->connreq.enable, 0);
    ngx_conf_init_msec_value(mcf->connreq.timeout, 2000);
    ngx_conf_init_msec_value(mcf->connreq.window, 5000);
    ngx_conf_init_uint_value(mcf->connreq.max, 64);
    ngx_conf_init_msec_value(mcf->connreq.claim_after, 30000);
    ngx_conf_init_value(mcf->connreq.basic, 0);
    ngx_conf_init_msec_value(mcf->auth_nonce_timeout, 300000);
    ngx_conf_init_uint_value(mcf->auth_limit_device, 10);
    ngx_conf_init_uint_value(mcf->auth_limit_addr, 100);
    ngx_conf_init_msec_value(mcf->auth_window, 300000);

    if (mcf->auth_nonce_timeout < 10000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_auth_nonce_timeout\" must be at least "
                           "10s");
        return NGX_CONF_ERROR;
    }

    if (mcf->auth_secret_file.len
        && ngx_conf_full_name(cf->cycle, &mcf->auth_secret_file, 1)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_cwmp_auth_secret(cf, &mcf->auth_secret_file,
                                  &mcf->auth_secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (mcf->connreq.claim_after < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_connreq_claim_after\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (mcf->connreq.max == 0 || mcf->connreq.max > 10000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_connreq_max\" must be from 1 to 10000");
        return NGX_CONF_ERROR;
    }

    /* the "xmpp" policy action: the JID devices are to allow */

    if (mcf->policies.xmpp) {
        xc = mcf->connreq.xmpp;

        if (xc == NULL || xc->server == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "the \"xmpp\" policy action needs "
                               "\"cwmp_xmpp\" (the ACS's JID)");
            return NGX_CONF_ERROR;
        }

        mcf->policies.acs_jid.data = ngx_pnalloc(cf->pool, xc->user.len + 1
                                                           + xc->domain.len);
        if (mcf->policies.acs_jid.data == NULL) {
            return NGX_CONF_ERROR;
        }

        mcf->policies.acs_jid.len = ngx_sprintf(mcf->policies.acs_jid.data,
                                                "%V@%V", &xc->user,
                                                &xc->domain)
                                    - mcf->policies.acs_jid.data;
    }

    if (mcf->policies.backoff_cap < 300) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_policy_backoff_cap\" must be at least 5m");
        return NGX_CONF_ERROR;
    }

    mcf->redis.backoff_min = 100;
    mcf->redis.backoff_max = 2000;

    mcf->redis.scripts = ngx_http_cwmp_store_scripts(&mcf->redis.nscripts,
                                                     &mcf->redis.functions);

    return NGX_CONF_OK;
}


static void *
ngx_http_cwmp_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_cwmp_loc_conf_t  *lcf;

    lcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cwmp_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->enable = NGX_CONF_UNSET;
    lcf->max_body_size = NGX_CONF_UNSET_SIZE;
    lcf->session_timeout = NGX_CONF_UNSET_MSEC;
    lcf->session_takeover = NGX_CONF_UNSET;
    lcf->transfer_timeout = NGX_CONF_UNSET;
    lcf->retry_after = NGX_CONF_UNSET;
    lcf->shed_pending = NGX_CONF_UNSET;
    lcf->auth = NGX_CONF_UNSET_UINT;
    lcf->auth_username = NGX_CONF_UNSET_UINT;
    lcf->file_access = NGX_CONF_UNSET;

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->auth_realm = { 0, NULL };
     *     lcf->auth_algorithms = { 0 };
     *     lcf->auth_bootstrap = { 0, NULL };
     */

    return lcf;
}


static char *
ngx_http_cwmp_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_cwmp_loc_conf_t *prev = parent;
    ngx_http_cwmp_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              2 * 1024 * 1024);
    ngx_conf_merge_msec_value(conf->session_timeout, prev->session_timeout,
                              30000);
    ngx_conf_merge_sec_value(conf->retry_after, prev->retry_after, 10);
    ngx_conf_merge_sec_value(conf->session_takeover, prev->session_takeover,
                             5);
    ngx_conf_merge_sec_value(conf->transfer_timeout, prev->transfer_timeout,
                             3600);
    ngx_conf_merge_value(conf->shed_pending, prev->shed_pending,
                         NGX_HTTP_CWMP_SHED_PENDING);

    /* CPEs authenticate unless a location says otherwise */

    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_HTTP_CWMP_AUTH_DIGEST);
    ngx_conf_merge_uint_value(conf->auth_username, prev->auth_username,
                              NGX_HTTP_CWMP_AUTH_ID_DEVICE);
    ngx_conf_merge_str_value(conf->auth_realm, prev->auth_realm, "cwmp");

    if (conf->auth_algorithms[0] == 0) {
        if (prev->auth_algorithms[0]) {
            ngx_memcpy(conf->auth_algorithms, prev->auth_algorithms,
                       sizeof(conf->auth_algorithms));

        } else {
            /* MD5 first: every CPE speaks it, some read one challenge */
            conf->auth_algorithms[0] = NGX_HTTP_CWMP_DIGEST_MD5;
#if (NGX_OPENSSL)
            conf->auth_algorithms[1] = NGX_HTTP_CWMP_DIGEST_SHA256;
#endif
        }
    }
    ngx_conf_merge_str_value(conf->auth_bootstrap, prev->auth_bootstrap, "");
    ngx_conf_merge_value(conf->file_access, prev->file_access, 0);

    if (conf->auth_realm.len > 128
        || ngx_strlchr(conf->auth_realm.data,
                       conf->auth_realm.data + conf->auth_realm.len, '"')
        || ngx_strlchr(conf->auth_realm.data,
                       conf->auth_realm.data + conf->auth_realm.len, '\\'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"cwmp_auth_realm\" \"%V\": at most 128 "
                           "characters, no quote or backslash",
                           &conf->auth_realm);
        return NGX_CONF_ERROR;
    }

    if (conf->session_timeout < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_session_timeout\" must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (conf->transfer_timeout < 60) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_transfer_timeout\" must be at least 1m");
        return NGX_CONF_ERROR;
    }

    if (conf->max_body_size < 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_max_body_size\" must be at least 4k");
        return NGX_CONF_ERROR;
    }

    /*
     * a CWMP body is parsed whole: keep it in memory rather than let nginx
     * write it to a temporary file that the worker would read back (core
     * is merged before this module, so its value here is final)
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (conf->enable && clcf->client_body_buffer_size < conf->max_body_size) {
        clcf->client_body_buffer_size = conf->max_body_size;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_cwmp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_cwmp_main_conf_t  *mcf;

    if (lcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_cwmp_handler;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cwmp_module);
    mcf->enabled = 1;

    return NGX_CONF_OK;
}


/*
 * "cwmp_shed_pending <n> | off": a worker with n Redis operations pending
 * answers new sessions 503 + Retry-After; running sessions go on.
 */

static char *
ngx_http_cwmp_shed_pending(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_loc_conf_t *lcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (lcf->shed_pending != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        lcf->shed_pending = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);
    if (n < 1 || n > 1000000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" takes \"off\" or a number of operations "
                           "from 1 to 1000000, not \"%V\"",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    lcf->shed_pending = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_cwmp_policy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    return ngx_http_cwmp_policy_block(cf, &mcf->policies);
}


/* "cwmp_connreq_allow 10.0.0.0/8": where ConnectionRequestURLs may point */

static char *
ngx_http_cwmp_connreq_allow(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_cidr_t  *cidr;

    value = cf->args->elts;

    if (mcf->connreq.allow == NULL) {
        mcf->connreq.allow = ngx_array_create(cf->pool, 2,
                                              sizeof(ngx_cidr_t));
        if (mcf->connreq.allow == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cidr = ngx_array_push(mcf->connreq.allow);
    if (cidr == NULL) {
        return NGX_CONF_ERROR;
    }

    rc = ngx_ptocidr(&value[1], cidr);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid network \"%V\" in \"%V\"", &value[1],
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DONE) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "low address bits of %V are meaningless",
                           &value[1]);
    }

    return NGX_CONF_OK;
}


/*
 * "cwmp_connreq_transports xmpp udp:nat http udp" (the default): the
 * order a connection request tries the transports a device has; ":nat"
 * only for a device that reports NATDetected.  The next is tried when one
 * does not reach the device (offline, refused, invalid_url), each once.
 */

static char *
ngx_http_cwmp_connreq_transports(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_str_t   *value, name;
    ngx_uint_t   i, t;

    if (mcf->connreq.ntransports) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > NGX_HTTP_CWMP_CONNREQ_TRANSPORTS) {
        return "has too many transports";
    }

    for (i = 1; i < cf->args->nelts; i++) {
        name = value[i];
        t = 0;

        if (name.len > 4
            && ngx_strcmp(name.data + name.len - 4, ":nat") == 0)
        {
            t = NGX_HTTP_CWMP_CONNREQ_NAT;
            name.len -= 4;
        }

        if (name.len == 4 && ngx_strncmp(name.data, "http", 4) == 0) {
            t |= NGX_HTTP_CWMP_CONNREQ_HTTP;

        } else if (name.len == 3 && ngx_strncmp(name.data, "udp", 3) == 0) {
            t |= NGX_HTTP_CWMP_CONNREQ_UDP;

        } else if (name.len == 4 && ngx_strncmp(name.data, "xmpp", 4) == 0) {
            t |= NGX_HTTP_CWMP_CONNREQ_XMPP;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid value \"%V\" in \"%V\" directive "
                               "(http, udp or xmpp, with \":nat\" or not)",
                               &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        mcf->connreq.transports[mcf->connreq.ntransports++] = t;
    }

    return NGX_CONF_OK;
}


/*
 * "cwmp_connreq_udp 0.0.0.0:3478": UDP connection requests leave from the
 * UDP socket listening there (the STUN server's), so that the NAT the
 * device's STUN bindings opened lets them through.
 */

static char *
ngx_http_cwmp_connreq_udp(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_str_t  *value;
    ngx_url_t   u;

    if (mcf->connreq.udp) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.listen = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address \"%V\" in \"%V\"%s%s",
                           &value[1], &cmd->name, u.err ? ": " : "",
                           u.err ? u.err : "");
        return NGX_CONF_ERROR;
    }

    mcf->connreq.udp = &u.addrs[0];

    return NGX_CONF_OK;
}


/* "cwmp_connreq_credentials <user> <password>": when Redis has none */

static char *
ngx_http_cwmp_connreq_credentials(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_str_t  *value;

    if (mcf->connreq.password.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->connreq.username = value[1];
    mcf->connreq.password = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_cwmp_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cwmp_main_conf_t *mcf = conf;

    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (mcf->redis.name.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->redis.name = value[1];

    if (ngx_strncmp(value[1].data, "cluster=", 8) == 0) {
        mcf->redis.mode = NGX_HTTP_CWMP_REDIS_CLUSTER;
        s.data = value[1].data + 8;
        s.len = value[1].len - 8;

        if (ngx_http_cwmp_redis_seeds(cf, &mcf->redis, &s) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (ngx_strncmp(value[1].data, "sentinel=", 9) == 0) {
        mcf->redis.mode = NGX_HTTP_CWMP_REDIS_SENTINEL;
        s.data = value[1].data + 9;
        s.len = value[1].len - 9;

        if (ngx_http_cwmp_redis_seeds(cf, &mcf->redis, &s) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (ngx_http_cwmp_redis_address(cf, &mcf->redis.addr, &value[1])
               != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "master=", 7) == 0
            && mcf->redis.mode == NGX_HTTP_CWMP_REDIS_SENTINEL)
        {
            mcf->redis.master.data = value[i].data + 7;
            mcf->redis.master.len = value[i].len - 7;

            if (mcf->redis.master.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_password=", 18) == 0
            && mcf->redis.mode == NGX_HTTP_CWMP_REDIS_SENTINEL)
        {
            mcf->redis.sentinel_password.data = value[i].data + 18;
            mcf->redis.sentinel_password.len = value[i].len - 18;

            if (mcf->redis.sentinel_password.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sentinel_user=", 14) == 0
            && mcf->redis.mode == NGX_HTTP_CWMP_REDIS_SENTINEL)
        {
            mcf->redis.sentinel_user.data = value[i].data + 14;
            mcf->redis.sentinel_user.len = value[i].len - 14;

            if (mcf->redis.sentinel_user.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "wait=", 5) == 0) {
            n = ngx_atoi(value[i].data + 5, value[i].len - 5);
            if (n == NGX_ERROR || n < 1 || n > 16) {
                goto invalid;
            }

            mcf->redis.wait_replicas = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "wait_timeout=", 13) == 0) {
            s.data = value[i].data + 13;
            s.len = value[i].len - 13;

            mcf->redis.wait_timeout = ngx_parse_time(&s, 0);
            if (mcf->redis.wait_timeout == (ngx_msec_t) NGX_ERROR
                || mcf->redis.wait_timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            mcf->redis.password.data = value[i].data + 9;
            mcf->redis.password.len = value[i].len - 9;

            if (mcf->redis.password.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "user=", 5) == 0) {
            mcf->redis.user.data = value[i].data + 5;
            mcf->redis.user.len = value[i].len - 5;

            if (mcf->redis.user.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 65535) {
                goto invalid;
            }

            mcf->redis.db = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;

            mcf->redis.connect_timeout = ngx_parse_time(&s, 0);
            if (mcf->redis.connect_timeout == (ngx_msec_t) NGX_ERROR
                || mcf->redis.connect_timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            mcf->redis.timeout = ngx_parse_time(&s, 0);
            if (mcf->redis.timeout == (ngx_msec_t) NGX_ERROR
                || mcf->redis.timeout == 0)
            {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "queue=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            mcf->redis.queue_max = (ngx_uint_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            mcf->store.prefix.data = value[i].data + 7;
            mcf->store.prefix.len = value[i].len - 7;
            continue;
        }

        goto invalid;
    }

    if (mcf->redis.user.len && mcf->redis.password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"user=\" needs \"password=\" in \"%V\" directive",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (mcf->redis.sentinel_user.len && mcf->redis.sentinel_password.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sentinel_user=\" needs \"sentinel_password=\" "
                           "in \"%V\" directive", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (mcf->redis.mode == NGX_HTTP_CWMP_REDIS_SENTINEL
        && mcf->redis.master.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sentinel=\" needs \"master=<name>\" in \"%V\" "
                           "directive", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (mcf->redis.mode == NGX_HTTP_CWMP_REDIS_CLUSTER
        && mcf->redis.db != NGX_CONF_UNSET_UINT && mcf->redis.db != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a Redis Cluster has no \"db=\" other than 0 in "
                           "\"%V\" directive", &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"%V\" directive",
                       &value[i], &cmd->name);

    return NGX_CONF_ERROR;
}


/*
 * "host:port" is resolved here, at configuration time, and kept numeric:
 * a worker never resolves names.  "unix:/path" is a Unix socket.
 */

static ngx_int_t
ngx_http_cwmp_redis_address(ngx_conf_t *cf, ngx_http_cwmp_redis_addr_t *addr,
    ngx_str_t *value)
{
    u_char     *p;
    ngx_url_t   u;

    addr->name = *value;

    if (value->len > 5 && ngx_strncmp(value->data, "unix:", 5) == 0) {

        if (value->len == 5 || value->data[5] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid redis address \"%V\": a unix socket "
                               "path must be absolute", value);
            return NGX_ERROR;
        }

        addr->path.len = value->len - 5;
        addr->path.data = ngx_pnalloc(cf->pool, addr->path.len + 1);
        if (addr->path.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(addr->path.data, value->data + 5, addr->path.len);
        *p = '\0';

        return NGX_OK;
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url = *value;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis address \"%V\"", u.err, value);
        }

        return NGX_ERROR;
    }

    if (u.no_port || u.port == 0 || u.naddrs == 0 || u.uri.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis address \"%V\", expected "
                           "\"host:port\" or \"unix:/path\"", value);
        return NGX_ERROR;
    }

    addr->port = u.port;

    addr->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (addr->host.data == NULL) {
        return NGX_ERROR;
    }

    addr->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                   addr->host.data, NGX_SOCKADDR_STRLEN, 0);
    addr->host.data[addr->host.len] = '\0';

    return NGX_OK;
}


/* "h:p,h:p,...": the cluster nodes asked first, or the Sentinels */

static ngx_int_t
ngx_http_cwmp_redis_seeds(ngx_conf_t *cf, ngx_http_cwmp_redis_conf_t *rc,
    ngx_str_t *list)
{
    u_char                      *p, *last, *comma;
    ngx_str_t                    one;
    ngx_http_cwmp_redis_addr_t  *addr;

    if (ngx_array_init(&rc->seeds, cf->pool, 4,
                       sizeof(ngx_http_cwmp_redis_addr_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = list->data;
    last = p + list->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        one.data = p;
        one.len = comma - p;

        if (one.len == 0
            || (one.len > 5 && ngx_strncmp(one.data, "unix:", 5) == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid redis address \"%V\" in \"%V\": "
                               "\"host:port\" expected", &one, list);
            return NGX_ERROR;
        }

        addr = ngx_array_push(&rc->seeds);
        if (addr == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(addr, sizeof(ngx_http_cwmp_redis_addr_t));

        if (ngx_http_cwmp_redis_address(cf, addr, &one) != NGX_OK) {
            return NGX_ERROR;
        }

        p = comma + 1;
    }

    if (rc->seeds.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no redis address in \"%V\"", list);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_init(ngx_conf_t *cf)
{
    /* once, in the master, before workers fork */

    xmlInitParser();

    /* the file store's signed URLs; the upload receiver's bodies */

    if (ngx_http_cwmp_file_access_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_cwmp_upload_init(cf);
}


static ngx_int_t
ngx_http_cwmp_init_process(ngx_cycle_t *cycle)
{
    ngx_http_cwmp_main_conf_t  *mcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_cwmp_module);

    if (mcf == NULL || !mcf->enabled) {
        return NGX_OK;
    }

    mcf->store.redis = ngx_http_cwmp_redis_create(cycle, &mcf->redis);
    if (mcf->store.redis == NULL) {
        return NGX_ERROR;
    }

    /* the relay's sweeper: one worker per host is enough */

    if (ngx_http_cwmp_store_init_process(&mcf->store, cycle,
                                         &mcf->policies.campaigns,
                                         ngx_worker == 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_cwmp_connreq_init_process(cycle, &mcf->connreq, &mcf->store)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_cwmp_util_init_process(cycle);
}


static void
ngx_http_cwmp_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_cwmp_main_conf_t  *mcf;

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_cwmp_module);

    ngx_http_cwmp_xmpp_exit_process();

    if (mcf == NULL || mcf->store.redis == NULL) {
        return;
    }

    ngx_http_cwmp_store_exit_process(&mcf->store);
    ngx_http_cwmp_redis_destroy(mcf->store.redis);
    mcf->store.redis = NULL;
}
