
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Connection requests.  A producer adds "XADD cwmp:connreq * device <ID>";
 * every worker of every host polls the stream through the consumer group
 * "cwmp" (so each entry is served once), takes over entries a dead worker
 * held for cwmp_connreq_claim_after (XAUTOCLAIM, every second), and for
 * each entry:
 *
 *   connreq_prepare.lua   coalesced with another within the window, or
 *                         the device's URL, UDP address, JID and
 *                         credentials;
 *   the transports        in cwmp_connreq_transports order, each once, the
 *                         next when one does not reach the device: the
 *                         XMPP IQ (ngx_http_cwmp_xmpp.c), the UDP message
 *                         (TR-069 Annex G), or GET <URL> on an nginx peer
 *                         connection, with timers (a 401 with a Digest
 *                         challenge, MD5 or SHA-256, answered once, on a
 *                         new connection);
 *   XADD results:{S},     the outcome (in the device's shard): ok, offline,
 *   then XACK             auth_failed, refused, invalid_url, rate_limited
 *                         or unknown; acknowledged once stored.
 *
 * The URL is hostile: http only, a literal address (no DNS), and that
 * address must be the one the device's Informs come from or inside a
 * cwmp_connreq_allow network, so that a CPE cannot aim the ACS at another
 * host.  Passwords are never logged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_event_connect.h>

#include "ngx_http_cwmp_auth.h"
#include "ngx_http_cwmp_connreq.h"
#include "ngx_http_cwmp_util.h"
#include "ngx_http_cwmp_store.h"
#include "ngx_http_cwmp_metrics.h"
#include "ngx_http_cwmp_xmpp.h"


#define NGX_HTTP_CWMP_CONNREQ_POLL    100      /* ms */
#define NGX_HTTP_CWMP_CONNREQ_CLAIM   10       /* polls between takeovers */
#define NGX_HTTP_CWMP_CONNREQ_BUF     4096
#define NGX_HTTP_CWMP_CONNREQ_SENDS   3        /* datagrams per request */
#define NGX_HTTP_CWMP_CONNREQ_UDP_GAP 200      /* ms between them */


typedef struct {
    ngx_http_cwmp_connreq_conf_t  *conf;
    ngx_http_cwmp_store_t         *store;
    ngx_str_t                      consumer;
    ngx_event_t                    poll;
    ngx_uint_t                     polls;
    ngx_uint_t                     inflight;
    ngx_pool_t                    *pool;         /* the take op's */
    ngx_http_cwmp_redis_op_t      *op;
    ngx_uint_t                     nogroup;
    ngx_socket_t                   udp;           /* STUN's socket, or -1 */
} ngx_http_cwmp_connreq_worker_t;


typedef struct {
    ngx_pool_t                    *pool;
    ngx_log_t                     *log;
    ngx_str_t                      device_id;
    ngx_str_t                      entry;
    ngx_str_t                      url;
    ngx_str_t                      remote;
    ngx_str_t                      username;
    ngx_str_t                      password;
    ngx_str_t                      host;          /* "a.b.c.d:port" */
    ngx_str_t                      path;
    ngx_addr_t                     addr;
    ngx_peer_connection_t          peer;
    ngx_buf_t                     *out;
    ngx_buf_t                     *in;
    ngx_str_t                      authorization;
    ngx_uint_t                     tries;
    ngx_http_cwmp_redis_op_t      *op;
    ngx_str_t                      status;
    ngx_str_t                      detail;
    ngx_str_t                      udp;           /* UDPConnectionRequest-
                                                     Address */
    ngx_str_t                      nat;           /* NATDetected */
    ngx_str_t                      datagram;
    ngx_uint_t                     sent;
    char                          *transport;     /* http, udp, xmpp */
    ngx_str_t                      jid;           /* ConnReqJabberID */
    ngx_uint_t                     next;          /* in the transports */
    ngx_uint_t                     tried;         /* transports' bits */
    ngx_str_t                      earlier;       /* what the transports
                                                     tried before found */
    unsigned                       started:1;
    ngx_event_t                    timer;
} ngx_http_cwmp_connreq_job_t;


static void ngx_http_cwmp_connreq_poll(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_connreq_taken(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_connreq_take_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_connreq_group_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_connreq_entry(ngx_str_t *id, ngx_str_t *device);
static void ngx_http_cwmp_connreq_submit(ngx_http_cwmp_connreq_job_t *job,
    ngx_http_cwmp_redis_op_t *op, ngx_http_cwmp_redis_reply_pt reply,
    ngx_http_cwmp_redis_done_pt done);
static ngx_int_t ngx_http_cwmp_connreq_prepared(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_http_cwmp_connreq_prepare_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_connreq_start(ngx_http_cwmp_connreq_job_t *job);
static ngx_int_t ngx_http_cwmp_connreq_url(ngx_http_cwmp_connreq_job_t *job);
static ngx_int_t ngx_http_cwmp_connreq_allowed(
    ngx_http_cwmp_connreq_job_t *job, ngx_str_t *addr);
static void ngx_http_cwmp_connreq_udp(ngx_http_cwmp_connreq_job_t *job);
static void ngx_http_cwmp_connreq_xmpp_done(void *data, char *status,
    char *detail);
static ngx_int_t ngx_http_cwmp_connreq_try(ngx_http_cwmp_connreq_job_t *job);
static ngx_uint_t ngx_http_cwmp_connreq_nat(ngx_http_cwmp_connreq_job_t *job);
static void ngx_http_cwmp_connreq_udp_send(ngx_event_t *ev);
static void ngx_http_cwmp_connreq_connect(ngx_http_cwmp_connreq_job_t *job);
static void ngx_http_cwmp_connreq_write(ngx_event_t *wev);
static void ngx_http_cwmp_connreq_read(ngx_event_t *rev);
static void ngx_http_cwmp_connreq_response(ngx_http_cwmp_connreq_job_t *job);
static ngx_int_t ngx_http_cwmp_connreq_digest(ngx_http_cwmp_connreq_job_t *job,
    u_char *start, u_char *end);
static ngx_int_t ngx_http_cwmp_connreq_basic(
    ngx_http_cwmp_connreq_job_t *job);
static void ngx_http_cwmp_connreq_finish(ngx_http_cwmp_connreq_job_t *job,
    char *status, char *detail);
static void ngx_http_cwmp_connreq_store(ngx_http_cwmp_connreq_job_t *job,
    char *status, char *detail);
static void ngx_http_cwmp_connreq_done(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_connreq_acked(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void ngx_http_cwmp_connreq_free(ngx_http_cwmp_connreq_job_t *job);


static ngx_http_cwmp_connreq_worker_t  *ngx_http_cwmp_connreq_worker;


ngx_int_t
ngx_http_cwmp_connreq_init_process(ngx_cycle_t *cycle,
    ngx_http_cwmp_connreq_conf_t *conf, ngx_http_cwmp_store_t *store)
{
    u_char                          *p;
    ngx_uint_t                       i;
    ngx_listening_t                 *ls;
    ngx_http_cwmp_connreq_worker_t  *w;

    if (!conf->enable) {
        return NGX_OK;
    }

    w = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_connreq_worker_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    ngx_http_cwmp_connreq_worker = w;

    w->conf = conf;
    w->store = store;

    /* the consumer's name: this host and worker */

    p = ngx_pnalloc(cycle->pool, cycle->hostname.len + NGX_INT_T_LEN + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    w->consumer.data = p;
    w->consumer.len = ngx_sprintf(p, "%V:%P", &cycle->hostname, ngx_pid) - p;

    /* UDP connection requests leave from the STUN server's socket */

    w->udp = (ngx_socket_t) -1;

    if (conf->udp) {
        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].type == SOCK_DGRAM && ls[i].fd != (ngx_socket_t) -1
                && (!ls[i].reuseport || ls[i].worker == ngx_worker)
                && ngx_cmp_sockaddr(ls[i].sockaddr, ls[i].socklen,
                                    conf->udp->sockaddr, conf->udp->socklen,
                                    1)
                   == NGX_OK)
            {
                w->udp = ls[i].fd;
                break;
            }
        }

        if (w->udp == (ngx_socket_t) -1) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "cwmp: no UDP socket listens on \"%V\" "
                          "(cwmp_connreq_udp): connection requests go "
                          "over HTTP only", &conf->udp->name);
        }
    }

    /* an XMPP session of this worker's, for CPEs only XMPP reaches */

    if (ngx_http_cwmp_xmpp_init_process(cycle, conf->xmpp) != NGX_OK) {
        return NGX_ERROR;
    }

    w->poll.handler = ngx_http_cwmp_connreq_poll;
    w->poll.data = w;
    w->poll.log = cycle->log;
    w->poll.cancelable = 1;

    ngx_add_timer(&w->poll, NGX_HTTP_CWMP_CONNREQ_POLL);

    return NGX_OK;
}


static void
ngx_http_cwmp_connreq_poll(ngx_event_t *ev)
{
    ngx_uint_t                       count;
    ngx_msec_t                       claim;
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(&w->poll, NGX_HTTP_CWMP_CONNREQ_POLL);

    /*
     * At most cwmp_connreq_max in flight, and never more than half the
     * worker's free connections: the CPEs' own sessions come first.
     */

    count = ngx_min(w->conf->max - ngx_min(w->inflight, w->conf->max),
                    ngx_cycle->free_connection_n / 2);

    if (w->op || count == 0
        || ngx_http_cwmp_store_available(w->store) != NGX_OK)
    {
        return;
    }

    w->pool = ngx_create_pool(1024, ev->log);
    if (w->pool == NULL) {
        return;
    }

    if (w->nogroup) {
        w->op = ngx_http_cwmp_store_connreq_group(w->store, w->pool,
                                                  ev->log);
        if (w->op) {
            w->op->done = ngx_http_cwmp_connreq_group_done;
        }

    } else {
        claim = (w->polls++ % NGX_HTTP_CWMP_CONNREQ_CLAIM == 0)
                ? w->conf->claim_after : 0;
        w->op = ngx_http_cwmp_store_connreq_take(w->store, w->pool,
                                                 &w->consumer, count, claim,
                                                 ev->log);
        if (w->op) {
            w->op->reply = ngx_http_cwmp_connreq_taken;
            w->op->done = ngx_http_cwmp_connreq_take_done;
        }
    }

    if (w->op == NULL) {
        ngx_destroy_pool(w->pool);
        w->pool = NULL;
        return;
    }

    w->op->data = w;

    if (ngx_http_cwmp_store_submit(w->store, w->op, ev->log) != NGX_OK) {
        w->op = NULL;
        ngx_destroy_pool(w->pool);
        w->pool = NULL;
    }
}


static ngx_int_t
ngx_http_cwmp_connreq_taken(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = op->data;

    if (ngx_http_cwmp_store_connreq_entries(reply, ngx_http_cwmp_connreq_entry)
        == NGX_DECLINED)
    {
        /* the first worker to poll creates the group */
        w->nogroup = 1;
    }

    return NGX_OK;
}


static void
ngx_http_cwmp_connreq_take_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = op->data;
    w->op = NULL;

    ngx_destroy_pool(w->pool);
    w->pool = NULL;
}


static void
ngx_http_cwmp_connreq_group_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = op->data;
    w->op = NULL;
    w->nogroup = 0;

    ngx_destroy_pool(w->pool);
    w->pool = NULL;

    /* "BUSYGROUP": another worker was first, as good */
}


/* one entry: its id and "device" field (empty when it has none) */

static void
ngx_http_cwmp_connreq_entry(ngx_str_t *id, ngx_str_t *device)
{
    ngx_pool_t                      *pool;
    ngx_http_cwmp_connreq_job_t     *job;
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    pool = ngx_create_pool(2048, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    job = ngx_pcalloc(pool, sizeof(ngx_http_cwmp_connreq_job_t));
    if (job == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    job->pool = pool;
    job->log = ngx_cycle->log;
    job->entry.data = ngx_pstrdup(pool, id);
    job->entry.len = id->len;
    job->device_id.data = ngx_pstrdup(pool, device);
    job->device_id.len = device->len;

    if (job->entry.data == NULL || job->device_id.data == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    w->inflight++;

    if (job->device_id.len == 0) {
        ngx_http_cwmp_connreq_finish(job, "unknown",
                                     "the entry names no device");
        return;
    }

    /* not acknowledged if it fails: taken over later */

    ngx_http_cwmp_connreq_submit(job,
        ngx_http_cwmp_store_connreq_prepare(w->store, pool,
                                            &job->device_id, w->conf->window,
                                            job->log),
        ngx_http_cwmp_connreq_prepared, ngx_http_cwmp_connreq_prepare_done);
}


/* a job's Redis op: submitted, or the job freed */

static void
ngx_http_cwmp_connreq_submit(ngx_http_cwmp_connreq_job_t *job,
    ngx_http_cwmp_redis_op_t *op, ngx_http_cwmp_redis_reply_pt reply,
    ngx_http_cwmp_redis_done_pt done)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    if (op == NULL) {
        ngx_http_cwmp_connreq_free(job);
        return;
    }

    op->data = job;
    op->reply = reply;
    op->done = done;

    job->op = op;

    if (ngx_http_cwmp_store_submit(w->store, op, job->log) != NGX_OK) {
        /* the op is freed */
        job->op = NULL;
        ngx_http_cwmp_connreq_free(job);
    }
}


/* {status, url, remote address, username, password, UDP address, NAT,
 * ConnReqJabberID} */

static ngx_int_t
ngx_http_cwmp_connreq_prepared(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_str_t                     out[8];
    ngx_http_cwmp_connreq_job_t  *job;

    job = op->data;

    if (ngx_http_cwmp_store_connreq_prepared(reply, job->pool, out, 8)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    job->status = out[0];
    job->url = out[1];
    job->remote = out[2];
    job->username = out[3];
    job->password = out[4];
    job->udp = out[5];
    job->nat = out[6];
    job->jid = out[7];

    return NGX_OK;
}


static void
ngx_http_cwmp_connreq_prepare_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_connreq_job_t  *job;

    job = op->data;
    job->op = NULL;

    if (rc == NGX_ABORT) {
        ngx_http_cwmp_connreq_free(job);
        return;
    }

    if (rc != NGX_OK) {
        /* not acknowledged: taken over after cwmp_connreq_claim_after */
        ngx_http_cwmp_connreq_free(job);
        return;
    }

    if (job->status.len == 2 && ngx_strncmp(job->status.data, "go", 2) == 0) {
        ngx_http_cwmp_connreq_start(job);
        return;
    }

    if (job->status.len == sizeof("rate_limited") - 1) {
        ngx_http_cwmp_connreq_finish(job, "rate_limited",
                                     "a request to the device within "
                                     "cwmp_connreq_window");
        return;
    }

    ngx_http_cwmp_connreq_finish(job, "unknown",
                                 "no Inform from the device yet");
}


/* what came of the XMPP request */

static void
ngx_http_cwmp_connreq_xmpp_done(void *data, char *status, char *detail)
{
    ngx_http_cwmp_connreq_finish(data, status, detail);
}


static void
ngx_http_cwmp_connreq_start(ngx_http_cwmp_connreq_job_t *job)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    if (job->password.len == 0) {
        job->username = w->conf->username;
        job->password = w->conf->password;
    }

    job->started = 1;

    if (ngx_http_cwmp_connreq_try(job) != NGX_OK) {
        ngx_http_cwmp_connreq_store(job, "offline", "no transport of "
                                    "cwmp_connreq_transports for the "
                                    "device");
    }
}


/*
 * The next transport of cwmp_connreq_transports the device has (each
 * once): NGX_OK once one is under way (it may have finished already),
 * NGX_DECLINED when none is left.
 */

static ngx_int_t
ngx_http_cwmp_connreq_try(ngx_http_cwmp_connreq_job_t *job)
{
    static ngx_uint_t  order[] = {
        NGX_HTTP_CWMP_CONNREQ_XMPP,
        NGX_HTTP_CWMP_CONNREQ_UDP | NGX_HTTP_CWMP_CONNREQ_NAT,
        NGX_HTTP_CWMP_CONNREQ_HTTP,
        NGX_HTTP_CWMP_CONNREQ_UDP
    };

    char                            *why;
    ngx_int_t                        rc;
    ngx_uint_t                       t, n, *transports;
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    transports = w->conf->ntransports ? w->conf->transports : order;
    n = w->conf->ntransports ? w->conf->ntransports
                             : sizeof(order) / sizeof(order[0]);

    while (job->next < n) {
        t = transports[job->next++];

        if ((job->tried & t & ~NGX_HTTP_CWMP_CONNREQ_NAT)
            || ((t & NGX_HTTP_CWMP_CONNREQ_NAT)
                && !ngx_http_cwmp_connreq_nat(job)))
        {
            continue;
        }

        if (t & NGX_HTTP_CWMP_CONNREQ_XMPP) {

            /* a ConnReqJabberID, an XMPP server (TR-069 Annex K) */

            if (w->conf->xmpp == NULL || w->conf->xmpp->server == NULL
                || job->jid.len == 0)
            {
                continue;
            }

            job->tried |= NGX_HTTP_CWMP_CONNREQ_XMPP;
            job->transport = "xmpp";

            why = ngx_http_cwmp_xmpp_jid_refused(w->conf->xmpp, &job->jid);

            if (why) {
                ngx_http_cwmp_connreq_finish(job, "refused", why);
                return NGX_OK;
            }

            rc = ngx_http_cwmp_xmpp_request(&job->jid, &job->username,
                                            &job->password, w->conf->timeout,
                                            ngx_http_cwmp_connreq_xmpp_done,
                                            job, &why);
            if (rc == NGX_OK) {
                return NGX_OK;
            }

            if (rc == NGX_ERROR) {
                ngx_http_cwmp_connreq_finish(job, "offline",
                                             "out of memory");
                return NGX_OK;
            }

            ngx_log_error(NGX_LOG_INFO, job->log, 0,
                          "cwmp: connection request %V to \"%V\": %s, "
                          "the next transport", &job->entry,
                          &job->device_id, why);
            continue;
        }

        if (t & NGX_HTTP_CWMP_CONNREQ_UDP) {

            /* a STUN binding (TR-069 Annex G) */

            if (w->udp == (ngx_socket_t) -1 || job->udp.len == 0) {
                continue;
            }

            job->tried |= NGX_HTTP_CWMP_CONNREQ_UDP;
            ngx_http_cwmp_connreq_udp(job);
            return NGX_OK;
        }

        /* no URL: HTTP only as the last word, when nothing was tried */

        if (job->url.len == 0 && job->tried) {
            continue;
        }

        job->tried |= NGX_HTTP_CWMP_CONNREQ_HTTP;
        job->transport = "http";

        rc = ngx_http_cwmp_connreq_url(job);

        if (rc == NGX_OK) {
            ngx_http_cwmp_connreq_connect(job);

        } else if (rc != NGX_DECLINED) {
            ngx_http_cwmp_connreq_finish(job, "offline", "out of memory");
        }

        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* the device says it is behind a NAT (its NATDetected) */

static ngx_uint_t
ngx_http_cwmp_connreq_nat(ngx_http_cwmp_connreq_job_t *job)
{
    return (job->nat.len == 1 && job->nat.data[0] == '1')
           || (job->nat.len == 4
               && ngx_strncasecmp(job->nat.data, (u_char *) "true", 4) == 0);
}


/*
 * A UDP connection request (TR-069 G.2.2): "GET http://<address>?ts=..
 * &id=..&un=..&cn=..&sig=.. HTTP/1.1", sig the HMAC-SHA1 of ts, id, un and
 * cn keyed by the password, sent a few times from the STUN server's
 * socket to the device's UDPConnectionRequestAddress (which must be its
 * Informs' address or an allowed one).  No answer comes: "ok" is "sent",
 * the session that follows is the proof.
 */

static void
ngx_http_cwmp_connreq_udp(ngx_http_cwmp_connreq_job_t *job)
{
    u_char      *p, id[17], cn[17], sig[41], mac[20];
    ngx_int_t    port;
    ngx_str_t    addr, text;

    addr = job->udp;
    port = 0;
    job->transport = "udp";

    if (addr.len && addr.data[0] == '[') {
        p = ngx_strlchr(addr.data, addr.data + addr.len, ']');
        if (p && p + 1 < addr.data + addr.len && p[1] == ':') {
            port = ngx_atoi(p + 2, addr.data + addr.len - p - 2);
            addr.len = p - addr.data - 1;
            addr.data++;
        }

    } else {
        p = ngx_strlchr(addr.data, addr.data + addr.len, ':');
        if (p) {
            port = ngx_atoi(p + 1, addr.data + addr.len - p - 1);
            addr.len = p - addr.data;
        }
    }

    if (port < 1 || port > 65535
        || ngx_parse_addr(job->pool, &job->addr, addr.data, addr.len)
           != NGX_OK)
    {
        ngx_http_cwmp_connreq_finish(job, "invalid_url",
                                     "a malformed UDPConnectionRequestAddress");
        return;
    }

    ngx_inet_set_port(job->addr.sockaddr, (in_port_t) port);

    if (ngx_http_cwmp_connreq_allowed(job, &addr) != NGX_OK) {
        ngx_http_cwmp_connreq_finish(job, "refused",
                                     "the UDP address is neither the "
                                     "device's nor in cwmp_connreq_allow");
        return;
    }

    if (job->password.len == 0) {
        ngx_http_cwmp_connreq_finish(job, "auth_failed",
                                     "no credentials for the device");
        return;
    }

    ngx_sprintf(id, "%08xD%08xD", (uint32_t) ngx_random(),
                (uint32_t) ngx_random());
    ngx_sprintf(cn, "%08xD%08xD", (uint32_t) ngx_random(),
                (uint32_t) ngx_random());

    /* sig = HMAC-SHA1(password, ts id un cn) */

    text.data = ngx_pnalloc(job->pool, NGX_TIME_T_LEN + 32
                                       + job->username.len);
    job->datagram.data = ngx_pnalloc(job->pool,
                                     2 * job->udp.len + 3 * job->username.len
                                     + NGX_TIME_T_LEN + 160);

    if (text.data == NULL || job->datagram.data == NULL) {
        ngx_http_cwmp_connreq_finish(job, "offline", "out of memory");
        return;
    }

    text.len = ngx_sprintf(text.data, "%T%*s%V%*s", ngx_time(), 16, id,
                           &job->username, 16, cn)
               - text.data;

    ngx_http_cwmp_hmac_sha1(&job->password, &text, 1, mac);
    *ngx_hex_dump(sig, mac, 20) = '\0';

    p = ngx_sprintf(job->datagram.data, "GET http://%V?ts=%T&id=%*s&un=",
                    &job->udp, ngx_time(), 16, id);
    p = (u_char *) ngx_escape_uri(p, job->username.data, job->username.len,
                                  NGX_ESCAPE_ARGS);
    p = ngx_sprintf(p, "&cn=%*s&sig=%s HTTP/1.1\r\nHost: %V\r\n\r\n",
                    16, cn, sig, &job->udp);

    job->datagram.len = p - job->datagram.data;

    job->timer.handler = ngx_http_cwmp_connreq_udp_send;
    job->timer.data = job;
    job->timer.log = job->log;

    ngx_http_cwmp_connreq_udp_send(&job->timer);
}


static void
ngx_http_cwmp_connreq_udp_send(ngx_event_t *ev)
{
    ssize_t                          n;
    ngx_http_cwmp_connreq_job_t     *job;
    ngx_http_cwmp_connreq_worker_t  *w;

    job = ev->data;
    w = ngx_http_cwmp_connreq_worker;

    n = sendto(w->udp, job->datagram.data, job->datagram.len, 0,
               job->addr.sockaddr, job->addr.socklen);

    if (n == -1) {
        ngx_log_error(NGX_LOG_INFO, job->log, ngx_socket_errno,
                      "cwmp: UDP connection request to \"%V\" failed",
                      &job->device_id);
    }

    if (++job->sent < NGX_HTTP_CWMP_CONNREQ_SENDS && !ngx_exiting) {
        ngx_add_timer(&job->timer, NGX_HTTP_CWMP_CONNREQ_UDP_GAP);
        return;
    }

    ngx_http_cwmp_connreq_finish(job, "ok", "sent over UDP");
}


/* the device's own address (its Informs'), or an allowed network */

static ngx_int_t
ngx_http_cwmp_connreq_allowed(ngx_http_cwmp_connreq_job_t *job,
    ngx_str_t *addr)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    if (addr->len == job->remote.len
        && ngx_strncmp(addr->data, job->remote.data, addr->len) == 0)
    {
        return NGX_OK;
    }

    if (w->conf->allow
        && ngx_cidr_match(job->addr.sockaddr, w->conf->allow) == NGX_OK)
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/*
 * "http://<address>[:port][/path]": a literal IPv4 or [IPv6] address, the
 * device's own (its Informs') or an allowed one.  NGX_DECLINED: refused
 * (the job is finished).
 */

static ngx_int_t
ngx_http_cwmp_connreq_url(ngx_http_cwmp_connreq_job_t *job)
{
    u_char     *p, *end, *host, *last;
    size_t      len;
    ngx_int_t   port;
    ngx_str_t   addr;

    p = job->url.data;
    end = p + job->url.len;

    if (job->url.len == 0) {
        ngx_http_cwmp_connreq_finish(job, "invalid_url",
                                     "the device reported no "
                                     "ConnectionRequestURL");
        return NGX_DECLINED;
    }

    if (job->url.len < 8 || ngx_strncasecmp(p, (u_char *) "http://", 7) != 0)
    {
        ngx_http_cwmp_connreq_finish(job, "invalid_url",
                                     "not an http:// URL");
        return NGX_DECLINED;
    }

    host = p + 7;
    last = host;

    while (last < end && *last != '/' && *last != '?') {
        last++;
    }

    job->host.data = host;
    job->host.len = last - host;

    if (last < end) {
        job->path.data = last;
        job->path.len = end - last;

    } else {
        ngx_str_set(&job->path, "/");
    }

    /* the address and the port */

    port = 80;
    addr = job->host;

    if (addr.len && addr.data[0] == '[') {
        p = ngx_strlchr(addr.data, addr.data + addr.len, ']');
        if (p == NULL) {
            goto invalid;
        }

        if (p + 1 < addr.data + addr.len) {
            if (p[1] != ':') {
                goto invalid;
            }

            port = ngx_atoi(p + 2, addr.data + addr.len - p - 2);
        }

        len = p - addr.data - 1;
        addr.data++;
        addr.len = len;

    } else {
        p = ngx_strlchr(addr.data, addr.data + addr.len, ':');
        if (p) {
            port = ngx_atoi(p + 1, addr.data + addr.len - p - 1);
            addr.len = p - addr.data;
        }
    }

    if (port < 1 || port > 65535 || addr.len == 0) {
        goto invalid;
    }

    if (ngx_parse_addr(job->pool, &job->addr, addr.data, addr.len) != NGX_OK)
    {
        ngx_http_cwmp_connreq_finish(job, "invalid_url",
                                     "not a literal address (host names "
                                     "are not resolved)");
        return NGX_DECLINED;
    }

    ngx_inet_set_port(job->addr.sockaddr, (in_port_t) port);
    job->addr.name = job->host;

    /* the device's own address, or an allowed network */

    if (ngx_http_cwmp_connreq_allowed(job, &addr) != NGX_OK) {
        ngx_http_cwmp_connreq_finish(job, "refused",
                                     "the URL's address is neither the "
                                     "device's nor in cwmp_connreq_allow");
        return NGX_DECLINED;
    }

    return NGX_OK;

invalid:

    ngx_http_cwmp_connreq_finish(job, "invalid_url", "a malformed URL");
    return NGX_DECLINED;
}


static void
ngx_http_cwmp_connreq_connect(ngx_http_cwmp_connreq_job_t *job)
{
    u_char                          *p;
    size_t                           len;
    ngx_int_t                        rc;
    ngx_connection_t                *c;
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    len = sizeof("GET  HTTP/1.1\r\nHost: \r\nConnection: close\r\n"
                 "Authorization: \r\n\r\n") - 1
          + job->path.len + job->host.len + job->authorization.len;

    job->out = ngx_create_temp_buf(job->pool, len);
    job->in = ngx_create_temp_buf(job->pool, NGX_HTTP_CWMP_CONNREQ_BUF);

    if (job->out == NULL || job->in == NULL) {
        ngx_http_cwmp_connreq_finish(job, "offline", "out of memory");
        return;
    }

    p = ngx_sprintf(job->out->last, "GET %V HTTP/1.1\r\nHost: %V\r\n"
                    "Connection: close\r\n", &job->path, &job->host);

    if (job->authorization.len) {
        p = ngx_sprintf(p, "Authorization: %V\r\n", &job->authorization);
    }

    *p++ = '\r'; *p++ = '\n';
    job->out->last = p;

    ngx_memzero(&job->peer, sizeof(ngx_peer_connection_t));

    job->peer.sockaddr = job->addr.sockaddr;
    job->peer.socklen = job->addr.socklen;
    job->peer.name = &job->host;
    job->peer.get = ngx_event_get_peer;
    job->peer.log = job->log;
    job->peer.log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(&job->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        if (job->peer.connection) {
            ngx_close_connection(job->peer.connection);
            job->peer.connection = NULL;
        }

        ngx_http_cwmp_connreq_finish(job, "offline", "connect() failed");
        return;
    }

    c = job->peer.connection;
    c->data = job;
    c->read->handler = ngx_http_cwmp_connreq_read;
    c->write->handler = ngx_http_cwmp_connreq_write;

    ngx_add_timer(c->write, w->conf->timeout);
    ngx_add_timer(c->read, w->conf->timeout);

    if (rc == NGX_OK) {
        ngx_http_cwmp_connreq_write(c->write);
    }
}


static void
ngx_http_cwmp_connreq_write(ngx_event_t *wev)
{
    ssize_t                       n;
    ngx_connection_t             *c;
    ngx_http_cwmp_connreq_job_t  *job;

    c = wev->data;
    job = c->data;

    if (wev->timedout) {
        ngx_http_cwmp_connreq_finish(job, "offline", "timed out");
        return;
    }

    while (job->out->pos < job->out->last) {
        n = c->send(c, job->out->pos, job->out->last - job->out->pos);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_cwmp_connreq_finish(job, "offline", "send failed");
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_cwmp_connreq_finish(job, "offline", "the device refused "
                                                   "the connection");
            return;
        }

        job->out->pos += n;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_cwmp_connreq_finish(job, "offline", "recv failed");
    }
}


static void
ngx_http_cwmp_connreq_read(ngx_event_t *rev)
{
    ssize_t                       n;
    ngx_connection_t             *c;
    ngx_http_cwmp_connreq_job_t  *job;

    c = rev->data;
    job = c->data;

    if (rev->timedout) {
        ngx_http_cwmp_connreq_finish(job, "offline", "timed out");
        return;
    }

    for ( ;; ) {
        if (job->in->last == job->in->end) {
            /* the headers are all we need: as much as the buffer holds */
            ngx_http_cwmp_connreq_response(job);
            return;
        }

        n = c->recv(c, job->in->last, job->in->end - job->in->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_cwmp_connreq_finish(job, "offline", "recv failed");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            break;
        }

        job->in->last += n;

        if (ngx_strlcasestrn(job->in->pos, job->in->last,
                             (u_char *) "\r\n\r\n", 4 - 1))
        {
            break;
        }
    }

    if (job->in->last == job->in->pos) {
        ngx_http_cwmp_connreq_finish(job, "offline", "no answer on the "
                                               "connection");
        return;
    }

    ngx_http_cwmp_connreq_response(job);
}


/* 2xx: done; 401 with a Digest challenge: answered once; else offline */

static void
ngx_http_cwmp_connreq_response(ngx_http_cwmp_connreq_job_t *job)
{
    u_char                          *p, *end, *line, *eol;
    ngx_int_t                        status;
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    p = job->in->pos;
    end = job->in->last;

    if (end - p < 12 || ngx_strncmp(p, "HTTP/1.", 7) != 0) {
        ngx_http_cwmp_connreq_finish(job, "offline",
                                     "not an HTTP response");
        return;
    }

    status = ngx_atoi(p + 9, 3);

    if (status >= 200 && status < 300) {
        ngx_http_cwmp_connreq_finish(job, "ok", NULL);
        return;
    }

    if (status != 401) {
        ngx_http_cwmp_connreq_finish(job, "offline",
                                     "the device answered neither 2xx "
                                     "nor 401");
        return;
    }

    if (job->tries++ > 0) {
        ngx_http_cwmp_connreq_finish(job, "auth_failed",
                                     "the device refused the credentials");
        return;
    }

    if (job->password.len == 0) {
        ngx_http_cwmp_connreq_finish(job, "auth_failed",
                                     "no credentials for the device "
                                     "(cwmp:device:{<ID>}:connreq or "
                                     "cwmp_connreq_credentials)");
        return;
    }

    /* the challenges: SHA-256 preferred, MD5 otherwise */

    for (line = p; line < end; line = eol + 2) {
        eol = ngx_strlcasestrn(line, end, (u_char *) "\r\n", 2 - 1);
        if (eol == NULL) {
            break;
        }

        if (eol - line > 24
            && ngx_strncasecmp(line, (u_char *) "WWW-Authenticate:", 17) == 0
            && ngx_http_cwmp_connreq_digest(job, line + 17, eol) == NGX_OK
            && job->authorization.len)
        {
            /* a SHA-256 challenge ends the search; MD5 may be bettered */

            if (ngx_strlcasestrn(line, eol, (u_char *) "SHA-256", 7 - 1)) {
                break;
            }
        }
    }

    if (job->authorization.len == 0 && w->conf->basic
        && ngx_strlcasestrn(p, end, (u_char *) "WWW-Authenticate: Basic",
                            23 - 1))
    {
        /* Basic only when configured: the password crosses in clear */

        if (ngx_http_cwmp_connreq_basic(job) != NGX_OK) {
            ngx_http_cwmp_connreq_finish(job, "offline", "out of memory");
            return;
        }
    }

    if (job->authorization.len == 0) {
        ngx_http_cwmp_connreq_finish(job, "auth_failed",
                                     "no Digest challenge the ACS can "
                                     "answer");
        return;
    }

    ngx_close_connection(job->peer.connection);
    job->peer.connection = NULL;

    ngx_http_cwmp_connreq_connect(job);
}


/* "Basic base64(user:password)" */

static ngx_int_t
ngx_http_cwmp_connreq_basic(ngx_http_cwmp_connreq_job_t *job)
{
    u_char     *p;
    ngx_str_t   plain, encoded;

    plain.len = job->username.len + 1 + job->password.len;
    plain.data = ngx_pnalloc(job->pool, plain.len);

    encoded.len = ngx_base64_encoded_length(plain.len);
    p = ngx_pnalloc(job->pool, sizeof("Basic ") - 1 + encoded.len);

    if (plain.data == NULL || p == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(plain.data, "%V:%V", &job->username, &job->password);

    job->authorization.data = p;
    p = ngx_cpymem(p, "Basic ", sizeof("Basic ") - 1);

    encoded.data = p;
    ngx_encode_base64(&encoded, &plain);

    job->authorization.len = sizeof("Basic ") - 1 + encoded.len;

    return NGX_OK;
}


/* Digest realm="..", nonce="..", qop="auth", algorithm=MD5|SHA-256 */

static ngx_int_t
ngx_http_cwmp_connreq_digest(ngx_http_cwmp_connreq_job_t *job, u_char *start,
    u_char *end)
{
    u_char      *p, ha1[65], ha2[65], resp[65], cnonce[17];
    size_t       len;
    ngx_str_t    realm, nonce, qop, opaque, s, c, x;
    ngx_uint_t   sha256;

    static ngx_str_t  get = ngx_string("GET");
    static ngx_str_t  nc = ngx_string("00000001");

    while (start < end && *start == ' ') {
        start++;
    }

    if (end - start < 7 || ngx_strncasecmp(start, (u_char *) "Digest ", 7))
    {
        return NGX_DECLINED;
    }

    start += 7;

    if (ngx_http_cwmp_auth_param(job->pool, start, end, "realm", &realm)
        != NGX_OK
        || ngx_http_cwmp_auth_param(job->pool, start, end, "nonce", &nonce)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_cwmp_auth_param(job->pool, start, end, "qop", &qop)
        != NGX_OK)
    {
        ngx_str_null(&qop);
    }

    if (ngx_http_cwmp_auth_param(job->pool, start, end, "opaque", &opaque)
        != NGX_OK)
    {
        ngx_str_null(&opaque);
    }

    if (ngx_http_cwmp_auth_algorithm(job->pool, start, end, &sha256)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (qop.len && ngx_strlcasestrn(qop.data, qop.data + qop.len,
                                    (u_char *) "auth", 4 - 1) == NULL)
    {
        return NGX_DECLINED;
    }

    if (job->authorization.len && !sha256) {
        return NGX_OK;      /* have one already */
    }

    /* H(user:realm:password), H(ha1:nonce:nc:cnonce:auth:H(GET:uri)) */

    if (ngx_http_cwmp_auth_ha1(job->pool, sha256, &job->username, &realm,
                               &job->password, ha1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_sprintf(cnonce, "%08xD%08xD", (uint32_t) ngx_random(),
                (uint32_t) ngx_random());
    cnonce[16] = '\0';

    s.data = ha1;
    s.len = sha256 ? 64 : 32;
    c.data = cnonce;
    c.len = 16;

    if (qop.len) {
        if (ngx_http_cwmp_auth_digest(job->pool, sha256, &s, &get, &job->path,
                                      &nonce, &nc, &c, resp)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        /* RFC 2069: H(ha1:nonce:H(GET:uri)) */

        x.data = ngx_pnalloc(job->pool, job->path.len + nonce.len + 64 + 8);
        if (x.data == NULL) {
            return NGX_ERROR;
        }

        x.len = ngx_sprintf(x.data, "GET:%V", &job->path) - x.data;
        ngx_http_cwmp_auth_hash(sha256, &x, ha2);

        x.len = ngx_sprintf(x.data, "%s:%V:%s", ha1, &nonce, ha2) - x.data;
        ngx_http_cwmp_auth_hash(sha256, &x, resp);
    }

    len = sizeof("Digest username=\"\", realm=\"\", nonce=\"\", uri=\"\", "
                 "algorithm=SHA-256, response=\"\", qop=auth, nc=00000001, "
                 "cnonce=\"\", opaque=\"\"") - 1
          + job->username.len + realm.len + nonce.len + job->path.len + 64
          + 16 + opaque.len;

    p = ngx_pnalloc(job->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    job->authorization.data = p;

    p = ngx_sprintf(p, "Digest username=\"%V\", realm=\"%V\", nonce=\"%V\", "
                    "uri=\"%V\", algorithm=%s, response=\"%s\"",
                    &job->username, &realm, &nonce, &job->path,
                    sha256 ? "SHA-256" : "MD5", resp);

    if (qop.len) {
        p = ngx_sprintf(p, ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
    }

    if (opaque.data) {
        p = ngx_sprintf(p, ", opaque=\"%V\"", &opaque);
    }

    job->authorization.len = p - job->authorization.data;

    return NGX_OK;
}


/* HTTP could not reach the device: over UDP when it has an address */

/*
 * What came of a transport: when it did not reach the device (offline,
 * refused, invalid_url) the next one is tried, else it is the outcome.
 */

static void
ngx_http_cwmp_connreq_finish(ngx_http_cwmp_connreq_job_t *job, char *status,
    char *detail)
{
    u_char     *p, *last;
    size_t      len;
    ngx_str_t   prev;

    if (job->peer.connection) {
        ngx_close_connection(job->peer.connection);
        job->peer.connection = NULL;
    }

    if (job->started
        && (ngx_strcmp(status, "offline") == 0
            || ngx_strcmp(status, "refused") == 0
            || ngx_strcmp(status, "invalid_url") == 0))
    {
        ngx_log_error(NGX_LOG_INFO, job->log, 0,
                      "cwmp: connection request %V to \"%V\" over %s: "
                      "%s%s%s", &job->entry, &job->device_id,
                      job->transport, status, detail ? ", " : "",
                      detail ? detail : "");

        /* the outcome's detail says what each transport found */

        len = job->earlier.len + ngx_strlen(job->transport)
              + ngx_strlen(status) + (detail ? ngx_strlen(detail) : 0) + 8;

        p = ngx_pnalloc(job->pool, len);
        if (p == NULL) {
            ngx_http_cwmp_connreq_store(job, status, detail);
            return;
        }

        prev = job->earlier;
        last = ngx_snprintf(p, len, "%V%s %s%s%s; ", &job->earlier,
                            job->transport, status, detail ? ": " : "",
                            detail ? detail : "");
        job->earlier.data = p;
        job->earlier.len = last - p;

        if (ngx_http_cwmp_connreq_try(job) == NGX_OK) {
            return;
        }

        job->earlier = prev;
    }

    if (job->earlier.len) {
        len = job->earlier.len + ngx_strlen(job->transport)
              + (detail ? ngx_strlen(detail) : 0) + 8;

        p = ngx_pnalloc(job->pool, len);
        if (p) {
            last = ngx_snprintf(p, len - 1, "%V%s: %s", &job->earlier,
                                job->transport, detail ? detail : status);
            *last = '\0';
            detail = (char *) p;
        }
    }

    ngx_http_cwmp_connreq_store(job, status, detail);
}


/* the outcome: in cwmp:results, the entry acknowledged */

static void
ngx_http_cwmp_connreq_store(ngx_http_cwmp_connreq_job_t *job, char *status,
    char *detail)
{
    u_char                          *p;
    ngx_str_t                        st, result;
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    if (job->peer.connection) {
        ngx_close_connection(job->peer.connection);
        job->peer.connection = NULL;
    }

    ngx_log_error(NGX_LOG_INFO, job->log, 0,
                  "cwmp: connection request %V to \"%V\": %s%s%s",
                  &job->entry, &job->device_id, status,
                  detail ? ", " : "", detail ? detail : "");

    ngx_http_cwmp_metric_connreq(status, job->transport);

    st.data = (u_char *) status;
    st.len = ngx_strlen(status);

    /* {"url": "...", "detail": "..."}: JSON-escaped */

    result.len = sizeof("{\"url\":\"\",\"detail\":\"\","
                        "\"transport\":\"xmpp\"}") - 1
                 + ngx_escape_json(NULL, job->url.data, job->url.len)
                 + job->url.len
                 + (detail ? ngx_strlen(detail) : 0);

    result.data = ngx_pnalloc(job->pool, result.len);
    if (result.data == NULL) {
        ngx_http_cwmp_connreq_free(job);
        return;
    }

    p = ngx_cpymem(result.data, "{\"url\":\"", sizeof("{\"url\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, job->url.data, job->url.len);
    p = ngx_sprintf(p, "\",\"detail\":\"%s\",\"transport\":\"%s\"}",
                    detail ? detail : "",
                    job->transport ? job->transport : "http");
    result.len = p - result.data;

    ngx_http_cwmp_connreq_submit(job,
        ngx_http_cwmp_store_connreq_done(w->store, job->pool,
                                         &job->device_id, &job->entry, &st,
                                         &result, job->log),
        NULL, ngx_http_cwmp_connreq_done);
}


/* the outcome stored: the entry acknowledged (else taken over later) */

static void
ngx_http_cwmp_connreq_done(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_connreq_job_t     *job;
    ngx_http_cwmp_connreq_worker_t  *w;

    job = op->data;
    job->op = NULL;
    w = ngx_http_cwmp_connreq_worker;

    if (rc != NGX_OK || w == NULL) {
        ngx_http_cwmp_connreq_free(job);
        return;
    }

    ngx_http_cwmp_connreq_submit(job,
        ngx_http_cwmp_store_connreq_ack(w->store, job->pool, &job->entry,
                                        job->log),
        NULL, ngx_http_cwmp_connreq_acked);
}


static void
ngx_http_cwmp_connreq_acked(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_http_cwmp_connreq_job_t  *job;

    job = op->data;
    job->op = NULL;

    ngx_http_cwmp_connreq_free(job);
}


static void
ngx_http_cwmp_connreq_free(ngx_http_cwmp_connreq_job_t *job)
{
    ngx_http_cwmp_connreq_worker_t  *w;

    w = ngx_http_cwmp_connreq_worker;

    if (job->peer.connection) {
        ngx_close_connection(job->peer.connection);
    }

    if (job->timer.timer_set) {
        ngx_del_timer(&job->timer);
    }

    w->inflight--;

    ngx_destroy_pool(job->pool);
}
