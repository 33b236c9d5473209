
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Prometheus metrics (ngx_http_cwmp_metrics.h).  The zone holds one flat
 * array of counters, laid out below; every worker adds to it with atomic
 * adds (no lock), the cwmp_metrics location reads it and writes the text
 * format (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * A reload keeps the counters when the layout (the number and names of
 * the policies) is the same, and starts them again otherwise: Prometheus
 * takes a counter reset in its stride.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_metrics.h"


/* the labelled families: their label values, "other" last */

static char  *ngx_http_cwmp_metric_events[] = {
    "0 BOOTSTRAP", "1 BOOT", "2 PERIODIC", "3 SCHEDULED", "4 VALUE CHANGE",
    "5 KICKED", "6 CONNECTION REQUEST", "7 TRANSFER COMPLETE",
    "8 DIAGNOSTICS COMPLETE", "9 REQUEST DOWNLOAD",
    "10 AUTONOMOUS TRANSFER COMPLETE", "11 DU STATE CHANGE COMPLETE",
    "12 AUTONOMOUS DU STATE CHANGE COMPLETE", "13 WAKEUP", "14 HEARTBEAT",
    "M Reboot", "M ScheduleInform", "M Download", "M ScheduleDownload",
    "M Upload", "M ChangeDUState", "other", NULL
};

static char  *ngx_http_cwmp_metric_rpcs[] = {
    "GetRPCMethods", "SetParameterValues", "GetParameterValues",
    "GetParameterNames", "SetParameterAttributes", "GetParameterAttributes",
    "AddObject", "DeleteObject", "Reboot", "Download", "Upload",
    "FactoryReset", "GetQueuedTransfers", "GetAllQueuedTransfers",
    "ScheduleInform", "SetVouchers", "GetOptions", "ScheduleDownload",
    "CancelTransfer", "ChangeDUState", "other", NULL
};

static char  *ngx_http_cwmp_metric_transports[] = {
    "http", "udp", "xmpp", NULL
};

static char  *ngx_http_cwmp_metric_connreqs[] = {
    "ok", "offline", "refused", "auth_failed", "invalid_url", "rate_limited",
    "unknown", "other", NULL
};

/* Redis round trips, ms: the buckets' upper bounds, +Inf after them */
static ngx_msec_t  ngx_http_cwmp_metric_buckets[] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000
};


#define NGX_HTTP_CWMP_M_NEVENTS    22
#define NGX_HTTP_CWMP_M_NRPCS      21
#define NGX_HTTP_CWMP_M_NFAULTS    34       /* 9000 ... 9032, other */
#define NGX_HTTP_CWMP_M_NCONNREQS  8
#define NGX_HTTP_CWMP_M_NBUCKETS   11       /* the bounds, +Inf */

#define NGX_HTTP_CWMP_M_EVENTS     NGX_HTTP_CWMP_M_N
#define NGX_HTTP_CWMP_M_RPCS       (NGX_HTTP_CWMP_M_EVENTS                   \
                                    + NGX_HTTP_CWMP_M_NEVENTS)
#define NGX_HTTP_CWMP_M_FAULTS     (NGX_HTTP_CWMP_M_RPCS                     \
                                    + NGX_HTTP_CWMP_M_NRPCS)
#define NGX_HTTP_CWMP_M_CONNREQS   (NGX_HTTP_CWMP_M_FAULTS                   \
                                    + NGX_HTTP_CWMP_M_NFAULTS)
#define NGX_HTTP_CWMP_M_NTRANSPORTS  3     /* http, udp, xmpp */
#define NGX_HTTP_CWMP_M_LATENCY    (NGX_HTTP_CWMP_M_CONNREQS                 \
                                    + NGX_HTTP_CWMP_M_NTRANSPORTS            \
                                      * NGX_HTTP_CWMP_M_NCONNREQS)
#define NGX_HTTP_CWMP_M_LATENCY_SUM  (NGX_HTTP_CWMP_M_LATENCY                \
                                      + NGX_HTTP_CWMP_M_NBUCKETS)
#define NGX_HTTP_CWMP_M_POLICIES   (NGX_HTTP_CWMP_M_LATENCY_SUM + 1)


/* the zone: its layout's fingerprint, then the counters */

typedef struct {
    uint32_t                     layout;
    ngx_uint_t                   n;
    ngx_atomic_t                 counters[1];
} ngx_http_cwmp_metrics_shm_t;


typedef struct {
    ngx_uint_t                   n;
    uint32_t                     layout;
} ngx_http_cwmp_metrics_zone_t;


static ngx_int_t ngx_http_cwmp_metrics_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_int_t ngx_http_cwmp_metrics_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_cwmp_metric_index(char **values, u_char *s,
    size_t len);
static u_char *ngx_http_cwmp_metrics_family(u_char *p, char *name,
    char *type, char *help, char *label, char **values, ngx_atomic_t *c);
static u_char *ngx_http_cwmp_metrics_label(u_char *p, ngx_str_t *value);


ngx_atomic_t  *ngx_http_cwmp_metrics;

static ngx_str_t  ngx_http_cwmp_metrics_zero = ngx_string("0");


void
ngx_http_cwmp_metric_event(ngx_str_t *code)
{
    if (ngx_http_cwmp_metrics) {
        (void) ngx_atomic_fetch_add(&ngx_http_cwmp_metrics[
                    NGX_HTTP_CWMP_M_EVENTS
                    + ngx_http_cwmp_metric_index(ngx_http_cwmp_metric_events,
                                                 code->data, code->len)], 1);
    }
}


void
ngx_http_cwmp_metric_rpc(ngx_str_t *method)
{
    if (ngx_http_cwmp_metrics && method->len) {
        (void) ngx_atomic_fetch_add(&ngx_http_cwmp_metrics[
                    NGX_HTTP_CWMP_M_RPCS
                    + ngx_http_cwmp_metric_index(ngx_http_cwmp_metric_rpcs,
                                                 method->data, method->len)],
                    1);
    }
}


void
ngx_http_cwmp_metric_fault(ngx_int_t code)
{
    ngx_int_t  n;

    if (ngx_http_cwmp_metrics) {
        n = code - 9000;

        if (n < 0 || n >= NGX_HTTP_CWMP_M_NFAULTS - 1) {
            n = NGX_HTTP_CWMP_M_NFAULTS - 1;
        }

        (void) ngx_atomic_fetch_add(
                   &ngx_http_cwmp_metrics[NGX_HTTP_CWMP_M_FAULTS + n], 1);
    }
}


void
ngx_http_cwmp_metric_connreq(char *status, char *transport)
{
    if (ngx_http_cwmp_metrics) {
        (void) ngx_atomic_fetch_add(&ngx_http_cwmp_metrics[
                    NGX_HTTP_CWMP_M_CONNREQS
                    + NGX_HTTP_CWMP_M_NCONNREQS
                      * ngx_http_cwmp_metric_index(
                            ngx_http_cwmp_metric_transports,
                            (u_char *) transport, ngx_strlen(transport))
                    + ngx_http_cwmp_metric_index(ngx_http_cwmp_metric_connreqs,
                                                 (u_char *) status,
                                                 ngx_strlen(status))], 1);
    }
}


void
ngx_http_cwmp_metric_redis_latency(ngx_msec_t ms)
{
    ngx_uint_t  i;

    if (ngx_http_cwmp_metrics == NULL) {
        return;
    }

    for (i = 0; i < NGX_HTTP_CWMP_M_NBUCKETS - 1; i++) {
        if (ms <= ngx_http_cwmp_metric_buckets[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(
               &ngx_http_cwmp_metrics[NGX_HTTP_CWMP_M_LATENCY + i], 1);
    (void) ngx_atomic_fetch_add(
               &ngx_http_cwmp_metrics[NGX_HTTP_CWMP_M_LATENCY_SUM], ms);
}


void
ngx_http_cwmp_metric_policy_tasks(ngx_uint_t policy, ngx_uint_t n)
{
    if (ngx_http_cwmp_metrics == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(
               &ngx_http_cwmp_metrics[NGX_HTTP_CWMP_M_POLICIES + policy], n);
}


/* cwmp_metrics_zone <size> */

char *
ngx_http_cwmp_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_shm_zone_t  **zone;

    ssize_t     size;
    ngx_str_t  *value, name;

    /* the main conf's: a cycle's own */
    zone = (ngx_shm_zone_t **) ((char *) conf + cmd->offset);

    if (*zone) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_metrics_zone\" needs a size of at least "
                           "%uz", 8 * ngx_pagesize);
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&name, "cwmp_metrics");

    *zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_cwmp_module);
    if (*zone == NULL) {
        return NGX_CONF_ERROR;
    }

    (*zone)->init = ngx_http_cwmp_metrics_init_zone;

    return NGX_CONF_OK;
}


/* the layout, once the policies are known (the main conf's init) */

ngx_int_t
ngx_http_cwmp_metrics_init_conf(ngx_conf_t *cf, ngx_shm_zone_t *zone,
    ngx_uint_t npolicies)
{
    uint32_t                       layout;
    ngx_uint_t                     i;
    ngx_http_cwmp_policy_t       **p;
    ngx_http_cwmp_main_conf_t     *mcf;
    ngx_http_cwmp_metrics_zone_t  *z;

    if (zone == NULL) {
        ngx_http_cwmp_metrics = NULL;
        return NGX_OK;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cwmp_module);

    z = ngx_palloc(cf->pool, sizeof(ngx_http_cwmp_metrics_zone_t));
    if (z == NULL) {
        return NGX_ERROR;
    }

    /* the fingerprint: the counters' number, the policies' names */

    ngx_crc32_init(layout);
    ngx_crc32_update(&layout, (u_char *) &npolicies, sizeof(ngx_uint_t));

    p = mcf->policies.policies.elts;
    for (i = 0; i < mcf->policies.policies.nelts; i++) {
        ngx_crc32_update(&layout, p[i]->name.data, p[i]->name.len + 1);
    }

    ngx_crc32_final(layout);

    z->n = NGX_HTTP_CWMP_M_POLICIES + npolicies;
    z->layout = layout;

    zone->data = z;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_metrics_init_zone(ngx_shm_zone_t *zone, void *data)
{
    size_t                         size;
    ngx_slab_pool_t               *shpool;
    ngx_http_cwmp_metrics_shm_t   *shm;
    ngx_http_cwmp_metrics_zone_t  *z;

    z = zone->data;
    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    /* the counters stay across a reload when the layout is the same */

    shm = shpool->data;

    if (shm && shm->layout == z->layout && shm->n == z->n) {
        ngx_http_cwmp_metrics = shm->counters;
        return NGX_OK;
    }

    size = sizeof(ngx_http_cwmp_metrics_shm_t)
           + z->n * sizeof(ngx_atomic_t);

    ngx_shmtx_lock(&shpool->mutex);

    if (shm) {
        ngx_slab_free_locked(shpool, shm);
    }

    shm = ngx_slab_calloc_locked(shpool, size);

    ngx_shmtx_unlock(&shpool->mutex);

    if (shm == NULL) {
        ngx_log_error(NGX_LOG_EMERG, zone->shm.log, 0,
                      "\"cwmp_metrics_zone\" is too small for %ui counters",
                      z->n);
        return NGX_ERROR;
    }

    shm->layout = z->layout;
    shm->n = z->n;
    shpool->data = shm;

    ngx_http_cwmp_metrics = shm->counters;

    return NGX_OK;
}


/* cwmp_metrics: the location's content handler */

char *
ngx_http_cwmp_metrics_location(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_cwmp_metrics_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cwmp_metrics_handler(ngx_http_request_t *r)
{
    u_char                          *p;
    size_t                           len;
    ngx_int_t                        rc;
    ngx_buf_t                       *b;
    ngx_uint_t                       i, n;
    ngx_chain_t                      out;
    ngx_atomic_t                    *c, total;
    ngx_http_cwmp_policy_t         **pol;
    ngx_http_cwmp_main_conf_t       *mcf;
    ngx_http_cwmp_store_counters_t  *cc;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    c = ngx_http_cwmp_metrics;

    if (c == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cwmp: metrics asked for, but there is no "
                      "cwmp_metrics_zone");
        return NGX_HTTP_NOT_FOUND;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_http_cwmp_module);
    pol = mcf->policies.policies.elts;
    n = mcf->policies.policies.nelts;

    /* at most: the fixed families, then two lines per policy, campaign */

    len = 16384;

    for (i = 0; i < n; i++) {
        len += 2 * pol[i]->name.len + 128;
    }

    if (mcf->store.counters) {
        cc = mcf->store.counters->elts;

        for (i = 0; i < mcf->store.counters->nelts; i++) {
            len += 2 * (2 * cc[i].name.len + 128);
        }
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    p = ngx_sprintf(p,
            "# HELP cwmp_sessions_opened_total CWMP sessions opened "
            "(InformResponse sent)\n"
            "# TYPE cwmp_sessions_opened_total counter\n"
            "cwmp_sessions_opened_total %uA\n"
            "# HELP cwmp_sessions_total CWMP sessions by how they ended, as "
            "nginx saw them\n"
            "# TYPE cwmp_sessions_total counter\n"
            "cwmp_sessions_total{outcome=\"completed\"} %uA\n"
            "cwmp_sessions_total{outcome=\"connection_closed\"} %uA\n"
            "cwmp_sessions_total{outcome=\"replaced\"} %uA\n"
            "cwmp_sessions_total{outcome=\"refused\"} %uA\n"
            "# HELP cwmp_sessions_in_progress CWMP sessions open on a "
            "connection\n"
            "# TYPE cwmp_sessions_in_progress gauge\n"
            "cwmp_sessions_in_progress %A\n",
            c[NGX_HTTP_CWMP_M_SESSIONS_OPENED],
            c[NGX_HTTP_CWMP_M_SESSION_COMPLETED],
            c[NGX_HTTP_CWMP_M_SESSION_CLOSED],
            c[NGX_HTTP_CWMP_M_SESSION_REPLACED],
            c[NGX_HTTP_CWMP_M_SESSION_REFUSED],
            (ngx_atomic_int_t) (c[NGX_HTTP_CWMP_M_SESSIONS_OPENED]
                                - c[NGX_HTTP_CWMP_M_SESSION_COMPLETED]
                                - c[NGX_HTTP_CWMP_M_SESSION_CLOSED]
                                - c[NGX_HTTP_CWMP_M_SESSION_REPLACED]));

    p = ngx_http_cwmp_metrics_family(p, "cwmp_informs_total", "counter",
                                     "Informs by event code", "event",
                                     ngx_http_cwmp_metric_events,
                                     &c[NGX_HTTP_CWMP_M_EVENTS]);
    p = ngx_http_cwmp_metrics_family(p, "cwmp_acs_rpcs_total", "counter",
                                     "ACS requests sent to CPEs, by method",
                                     "method", ngx_http_cwmp_metric_rpcs,
                                     &c[NGX_HTTP_CWMP_M_RPCS]);

    p = ngx_sprintf(p, "# HELP cwmp_cpe_faults_total CPE Fault answers, by "
                       "FaultCode\n"
                       "# TYPE cwmp_cpe_faults_total counter\n");

    for (i = 0; i < NGX_HTTP_CWMP_M_NFAULTS; i++) {
        if (i < NGX_HTTP_CWMP_M_NFAULTS - 1) {
            p = ngx_sprintf(p, "cwmp_cpe_faults_total{code=\"%ui\"} %uA\n",
                            9000 + i, c[NGX_HTTP_CWMP_M_FAULTS + i]);

        } else {
            p = ngx_sprintf(p, "cwmp_cpe_faults_total{code=\"other\"} %uA\n",
                            c[NGX_HTTP_CWMP_M_FAULTS + i]);
        }
    }

    p = ngx_sprintf(p,
            "# HELP cwmp_tasks_total task outcomes stored, by status\n"
            "# TYPE cwmp_tasks_total counter\n"
            "cwmp_tasks_total{status=\"done\"} %uA\n"
            "cwmp_tasks_total{status=\"fault\"} %uA\n"
            "cwmp_tasks_total{status=\"expired\"} %uA\n"
            "# HELP cwmp_connection_requests_total connection requests, by "
            "outcome and transport\n"
            "# TYPE cwmp_connection_requests_total counter\n",
            c[NGX_HTTP_CWMP_M_TASK_DONE], c[NGX_HTTP_CWMP_M_TASK_FAULT],
            c[NGX_HTTP_CWMP_M_TASK_EXPIRED]);

    for (i = 0; i < NGX_HTTP_CWMP_M_NTRANSPORTS * NGX_HTTP_CWMP_M_NCONNREQS;
         i++)
    {
        p = ngx_sprintf(p, "cwmp_connection_requests_total{outcome=\"%s\","
                           "transport=\"%s\"} %uA\n",
                        ngx_http_cwmp_metric_connreqs[
                            i % NGX_HTTP_CWMP_M_NCONNREQS],
                        ngx_http_cwmp_metric_transports[
                            i / NGX_HTTP_CWMP_M_NCONNREQS],
                        c[NGX_HTTP_CWMP_M_CONNREQS + i]);
    }

    p = ngx_sprintf(p,
            "# HELP cwmp_auth_failures_total CPE authentication refused, by "
            "reason\n"
            "# TYPE cwmp_auth_failures_total counter\n"
            "cwmp_auth_failures_total{reason=\"challenge\"} %uA\n"
            "cwmp_auth_failures_total{reason=\"credentials\"} %uA\n"
            "cwmp_auth_failures_total{reason=\"malformed\"} %uA\n"
            "cwmp_auth_failures_total{reason=\"forbidden\"} %uA\n"
            "cwmp_auth_failures_total{reason=\"limited\"} %uA\n"
            "# HELP cwmp_unavailable_total 503 answers, by cause\n"
            "# TYPE cwmp_unavailable_total counter\n"
            "cwmp_unavailable_total{cause=\"shed\"} %uA\n"
            "cwmp_unavailable_total{cause=\"redis\"} %uA\n"
            "cwmp_unavailable_total{cause=\"busy\"} %uA\n"
            "# HELP cwmp_redis_errors_total Redis calls that failed\n"
            "# TYPE cwmp_redis_errors_total counter\n"
            "cwmp_redis_errors_total %uA\n"
            "# HELP cwmp_redis_reconnects_total Redis connections made again "
            "after a loss\n"
            "# TYPE cwmp_redis_reconnects_total counter\n"
            "cwmp_redis_reconnects_total %uA\n"
            "# HELP cwmp_uploads_total uploads to the receiver, by outcome\n"
            "# TYPE cwmp_uploads_total counter\n"
            "cwmp_uploads_total{outcome=\"stored\"} %uA\n"
            "cwmp_uploads_total{outcome=\"refused\"} %uA\n"
            "# HELP cwmp_file_fetches_total stored files fetched by CPEs\n"
            "# TYPE cwmp_file_fetches_total counter\n"
            "cwmp_file_fetches_total %uA\n"
            "# HELP cwmp_informs_again_total steady Informs Redis asked for "
            "whole (its parameters were not the Inform's)\n"
            "# TYPE cwmp_informs_again_total counter\n"
            "cwmp_informs_again_total %uA\n"
            "# HELP cwmp_redis_latency_seconds Redis round trips\n"
            "# TYPE cwmp_redis_latency_seconds histogram\n",
            c[NGX_HTTP_CWMP_M_AUTH_CHALLENGE],
            c[NGX_HTTP_CWMP_M_AUTH_CREDENTIALS],
            c[NGX_HTTP_CWMP_M_AUTH_MALFORMED],
            c[NGX_HTTP_CWMP_M_AUTH_FORBIDDEN],
            c[NGX_HTTP_CWMP_M_AUTH_LIMITED],
            c[NGX_HTTP_CWMP_M_SHED], c[NGX_HTTP_CWMP_M_UNAVAILABLE],
            c[NGX_HTTP_CWMP_M_BUSY],
            c[NGX_HTTP_CWMP_M_REDIS_ERRORS],
            c[NGX_HTTP_CWMP_M_REDIS_RECONNECTS],
            c[NGX_HTTP_CWMP_M_UPLOADS_STORED],
            c[NGX_HTTP_CWMP_M_UPLOADS_REFUSED],
            c[NGX_HTTP_CWMP_M_FILES_FETCHED],
            c[NGX_HTTP_CWMP_M_INFORMS_AGAIN]);

    total = 0;

    for (i = 0; i < NGX_HTTP_CWMP_M_NBUCKETS; i++) {
        total += c[NGX_HTTP_CWMP_M_LATENCY + i];

        if (i < NGX_HTTP_CWMP_M_NBUCKETS - 1) {
            p = ngx_sprintf(p, "cwmp_redis_latency_seconds_bucket{le=\"%ui."
                               "%03ui\"} %uA\n",
                            ngx_http_cwmp_metric_buckets[i] / 1000,
                            ngx_http_cwmp_metric_buckets[i] % 1000, total);

        } else {
            p = ngx_sprintf(p, "cwmp_redis_latency_seconds_bucket{le=\"+Inf\"}"
                               " %uA\n", total);
        }
    }

    p = ngx_sprintf(p, "cwmp_redis_latency_seconds_sum %uA.%03uA\n"
                       "cwmp_redis_latency_seconds_count %uA\n",
                    c[NGX_HTTP_CWMP_M_LATENCY_SUM] / 1000,
                    c[NGX_HTTP_CWMP_M_LATENCY_SUM] % 1000, total);

    /* the policies: their tasks; the campaigns: as this worker read them */

    if (n) {
        p = ngx_sprintf(p, "# HELP cwmp_policy_tasks_total tasks the "
                           "policies planned\n"
                           "# TYPE cwmp_policy_tasks_total counter\n");

        for (i = 0; i < n; i++) {
            p = ngx_sprintf(p, "cwmp_policy_tasks_total{policy=\"");
            p = ngx_http_cwmp_metrics_label(p, &pol[i]->name);
            p = ngx_sprintf(p, "\"} %uA\n",
                            c[NGX_HTTP_CWMP_M_POLICIES + i]);
        }
    }

    if (mcf->store.counters && mcf->store.counters->nelts) {
        cc = mcf->store.counters->elts;

        p = ngx_sprintf(p, "# HELP cwmp_campaign_in_progress devices a "
                           "staged rollout has in progress\n"
                           "# TYPE cwmp_campaign_in_progress gauge\n");

        for (i = 0; i < mcf->store.counters->nelts; i++) {
            p = ngx_sprintf(p, "cwmp_campaign_in_progress{policy=\"");
            p = ngx_http_cwmp_metrics_label(p, &cc[i].name);
            p = ngx_sprintf(p, "\"} %V\n", cc[i].in_progress.len
                                           ? &cc[i].in_progress
                                           : &ngx_http_cwmp_metrics_zero);
        }

        p = ngx_sprintf(p, "# HELP cwmp_campaign_paused 1 when a staged "
                           "rollout is paused\n"
                           "# TYPE cwmp_campaign_paused gauge\n");

        for (i = 0; i < mcf->store.counters->nelts; i++) {
            p = ngx_sprintf(p, "cwmp_campaign_paused{policy=\"");
            p = ngx_http_cwmp_metrics_label(p, &cc[i].name);
            p = ngx_sprintf(p, "\"} %d\n", cc[i].paused.len ? 1 : 0);
        }
    }

    b->last = p;
    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    if (r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* the index of a label value, "other" when it is none of them */

static ngx_uint_t
ngx_http_cwmp_metric_index(char **values, u_char *s, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; values[i + 1]; i++) {
        if (ngx_strlen(values[i]) == len
            && ngx_strncmp(values[i], s, len) == 0)
        {
            break;
        }
    }

    return i;
}


static u_char *
ngx_http_cwmp_metrics_family(u_char *p, char *name, char *type, char *help,
    char *label, char **values, ngx_atomic_t *c)
{
    ngx_uint_t  i;

    p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                    type);

    for (i = 0; values[i]; i++) {
        p = ngx_sprintf(p, "%s{%s=\"%s\"} %uA\n", name, label, values[i],
                        c[i]);
    }

    return p;
}


/* a label value: \, " and newlines escaped, as the format says */

static u_char *
ngx_http_cwmp_metrics_label(u_char *p, ngx_str_t *value)
{
    size_t  i;

    for (i = 0; i < value->len; i++) {
        switch (value->data[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = value->data[i];
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = value->data[i];
        }
    }

    return p;
}
