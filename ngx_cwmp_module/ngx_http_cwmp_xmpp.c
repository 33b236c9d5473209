
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The ACS as an XMPP client (TR-069 Annex K): connection requests to CPEs
 * only XMPP reaches.  The flow:
 *
 *   1. each worker keeps an XMPP session of its own (its resource is
 *      cwmp_xmpp's resource, the host's name and the worker's pid): a TCP
 *      connection on the event loop, TLS (STARTTLS, or direct TLS), the
 *      stream, SASL (ngx_http_cwmp_xmpp_sasl.c: SCRAM-SHA-256 or -SHA-1,
 *      PLAIN never in the clear), a bound resource, presence; an XEP-0199
 *      ping every keepalive, its answer due within the timeout (else the
 *      connection is half-open and dropped); lost, it connects again with
 *      jittered backoff, one error line per outage.  The cwmp:connreq
 *      entry a worker took is its own (the consumer group), so each is
 *      sent once.
 *   2. a connection request for a device whose ConnReqJabberID is set goes
 *      out as the Annex's connectionRequest IQ, with the device's
 *      connection request username and password, to that full JID;
 *   3. the CPE's result (ok), its error (auth_failed), the server's
 *      service-unavailable or the IQ's timeout (offline), or the stream
 *      lost (offline) is the request's outcome.
 *
 * Threat model: the JID comes from the CPE: its form and length are
 * checked and it must be in a domain of cwmp_xmpp_allow (the ACS does not
 * message arbitrary addresses of a federated network).  What the server
 * sends is parsed by libxml2's push parser (no DTD, no entities, no
 * network), one stanza at most 64 KiB and 16 deep: more, or malformed, or
 * a log-in that does not finish in time, ends the stream (one line) and
 * the client connects again later.  Answers to IQ ids it did not send are
 * ignored.  The stream is TLS (STARTTLS or direct, the server's certificate
 * verified against cwmp_xmpp's trusted= CAs and its name the JID's domain)
 * unless tls=off says the server is on the ACS's own network; a SCRAM
 * server's final signature is checked.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>

#include <libxml/parser.h>

#include "ngx_http_cwmp_xmpp.h"
#include "ngx_http_cwmp_xmpp_sasl.h"
#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_util.h"


#define NGX_HTTP_CWMP_XMPP_STANZA_MAX  65536
#define NGX_HTTP_CWMP_XMPP_DEPTH_MAX   16
#define NGX_HTTP_CWMP_XMPP_OUT_MAX     (256 * 1024)
#define NGX_HTTP_CWMP_XMPP_BACKOFF_MAX 60000
#define NGX_HTTP_CWMP_XMPP_NS_CR                                             \
    "urn:broadband-forum-org:cwmp:xmppConnReq-1-0"


typedef enum {
    NGX_HTTP_CWMP_XMPP_IDLE = 0,
    NGX_HTTP_CWMP_XMPP_CONNECTING,
    NGX_HTTP_CWMP_XMPP_FEATURES,        /* the first stream's features */
    NGX_HTTP_CWMP_XMPP_STARTTLS,        /* asked, awaiting proceed */
    NGX_HTTP_CWMP_XMPP_SASL,            /* SCRAM's exchange */
    NGX_HTTP_CWMP_XMPP_FEATURES2,       /* the stream after SASL */
    NGX_HTTP_CWMP_XMPP_BIND,
    NGX_HTTP_CWMP_XMPP_READY
} ngx_http_cwmp_xmpp_state_e;


/* a connectionRequest IQ awaiting its answer */

typedef struct {
    ngx_queue_t                  queue;
    u_char                       id[17];
    ngx_event_t                  timer;
    ngx_http_cwmp_xmpp_done_pt   done;
    void                        *data;
} ngx_http_cwmp_xmpp_iq_t;


/* the stanza being read: what the client looks at */

typedef struct {
    u_char                       name[32];      /* features, iq, success */
    u_char                       type[16];
    u_char                       id[17];
    u_char                       child[32];     /* the first child */
    u_char                       condition[48]; /* an error's */
    ngx_uint_t                   mechanisms;    /* offered: bits */
    ngx_uint_t                   starttls;
    ngx_uint_t                   bind;          /* offered */
    u_char                       text[1024];    /* a SASL element's */
    size_t                       text_len;
    u_char                       jid[NGX_HTTP_CWMP_XMPP_JID_MAX];
    size_t                       jid_len;
    ngx_uint_t                   in_mechanism;
    ngx_uint_t                   in_jid;
    u_char                       mechanism[32];
    size_t                       mechanism_len;
} ngx_http_cwmp_xmpp_stanza_t;


typedef struct {
    ngx_http_cwmp_xmpp_conf_t   *conf;
    ngx_http_cwmp_xmpp_state_e   state;
    ngx_peer_connection_t        peer;
    ngx_pool_t                  *pool;          /* the connection's */
    xmlParserCtxtPtr             parser;
    ngx_uint_t                   depth;
    size_t                       stanza_bytes;
    ngx_uint_t                   failed;        /* the parser's verdict */
    ngx_uint_t                   parsing;       /* in xmlParseChunk */
    ngx_uint_t                   restart;       /* a new stream, after it */
    ngx_uint_t                   upgrade;       /* TLS, after it */
    ngx_uint_t                   secure;        /* the stream is TLS */
    char                        *drop;          /* the stream ends, after
                                                   it, for this reason */
    ngx_http_cwmp_xmpp_stanza_t  st;
    ngx_str_t                    resource;
    ngx_buf_t                   *out;
    ngx_event_t                  timer;         /* log-in, backoff */
    ngx_event_t                  ping;
    ngx_uint_t                   ping_sent;     /* its answer awaited */
    ngx_msec_t                   backoff;
    ngx_uint_t                   outage;        /* logged once */
    ngx_queue_t                  pending;
    ngx_uint_t                   next_id;

    ngx_http_cwmp_sasl_scram_t   scram;         /* .mechanism: the
                                                   one in use */
} ngx_http_cwmp_xmpp_t;


static void ngx_http_cwmp_xmpp_connect(ngx_http_cwmp_xmpp_t *x);
static void ngx_http_cwmp_xmpp_lost(ngx_http_cwmp_xmpp_t *x, char *why);
static void ngx_http_cwmp_xmpp_teardown(ngx_http_cwmp_xmpp_t *x);
static void ngx_http_cwmp_xmpp_drop(ngx_http_cwmp_xmpp_t *x, char *why);
static void ngx_http_cwmp_xmpp_timer(ngx_event_t *ev);
static void ngx_http_cwmp_xmpp_ping(ngx_event_t *ev);
static void ngx_http_cwmp_xmpp_connected(ngx_event_t *ev);
static void ngx_http_cwmp_xmpp_read(ngx_event_t *ev);
static void ngx_http_cwmp_xmpp_write(ngx_event_t *ev);
static ngx_int_t ngx_http_cwmp_xmpp_send(ngx_http_cwmp_xmpp_t *x,
    u_char *data, size_t len);
static ngx_int_t ngx_http_cwmp_xmpp_stream(ngx_http_cwmp_xmpp_t *x);
static void ngx_http_cwmp_xmpp_stanza(ngx_http_cwmp_xmpp_t *x);
static ngx_int_t ngx_http_cwmp_xmpp_sasl(ngx_http_cwmp_xmpp_t *x);
static void ngx_http_cwmp_xmpp_tls(ngx_http_cwmp_xmpp_t *x);
static void ngx_http_cwmp_xmpp_close(ngx_connection_t *c);
#if (NGX_SSL)
static void ngx_http_cwmp_xmpp_tls_done(ngx_connection_t *c);
#endif
static void ngx_http_cwmp_xmpp_iq_answer(ngx_http_cwmp_xmpp_t *x);
static void ngx_http_cwmp_xmpp_iq_timeout(ngx_event_t *ev);
static void ngx_http_cwmp_xmpp_iq_finish(ngx_http_cwmp_xmpp_iq_t *iq,
    char *status, char *detail);

static void ngx_http_cwmp_xmpp_sax_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes);
static void ngx_http_cwmp_xmpp_sax_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri);
static void ngx_http_cwmp_xmpp_sax_text(void *ctx, const xmlChar *ch,
    int len);
static void ngx_http_cwmp_xmpp_sax_subset(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id);


static ngx_http_cwmp_xmpp_t  *ngx_http_cwmp_xmpp_client;


ngx_int_t
ngx_http_cwmp_xmpp_init_process(ngx_cycle_t *cycle,
    ngx_http_cwmp_xmpp_conf_t *conf)
{
    ngx_http_cwmp_xmpp_t  *x;

    if (conf == NULL || conf->server == NULL) {
        return NGX_OK;
    }

    x = ngx_pcalloc(cycle->pool, sizeof(ngx_http_cwmp_xmpp_t));
    if (x == NULL) {
        return NGX_ERROR;
    }

    x->conf = conf;
    ngx_queue_init(&x->pending);

    /* each worker of each host a resource of its own: a second session
     * on a resource would replace the first */

    x->resource.data = ngx_pnalloc(cycle->pool,
                                   conf->resource.len + cycle->hostname.len
                                   + NGX_INT_T_LEN + 2);
    if (x->resource.data == NULL) {
        return NGX_ERROR;
    }

    x->resource.len = ngx_sprintf(x->resource.data, "%V-%V-%P",
                                  &conf->resource, &cycle->hostname, ngx_pid)
                      - x->resource.data;

    x->timer.handler = ngx_http_cwmp_xmpp_timer;
    x->timer.data = x;
    x->timer.log = cycle->log;
    x->timer.cancelable = 1;

    x->ping.handler = ngx_http_cwmp_xmpp_ping;
    x->ping.data = x;
    x->ping.log = cycle->log;
    x->ping.cancelable = 1;

    ngx_http_cwmp_xmpp_client = x;

    ngx_http_cwmp_xmpp_connect(x);

    return NGX_OK;
}


void
ngx_http_cwmp_xmpp_exit_process(void)
{
    ngx_http_cwmp_xmpp_t  *x;

    x = ngx_http_cwmp_xmpp_client;
    if (x == NULL) {
        return;
    }

    ngx_http_cwmp_xmpp_client = NULL;

    ngx_http_cwmp_xmpp_teardown(x);
}


/* the stream's connection, parser and pool freed */

static void
ngx_http_cwmp_xmpp_teardown(ngx_http_cwmp_xmpp_t *x)
{
    if (x->peer.connection) {
        ngx_http_cwmp_xmpp_close(x->peer.connection);
        x->peer.connection = NULL;
    }

    if (x->parser) {
        xmlFreeParserCtxt(x->parser);
        x->parser = NULL;
    }

    if (x->pool) {
        ngx_destroy_pool(x->pool);
        x->pool = NULL;
    }
}


static void
ngx_http_cwmp_xmpp_connect(ngx_http_cwmp_xmpp_t *x)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    x->pool = ngx_create_pool(4096, ngx_cycle->log);
    if (x->pool == NULL) {
        ngx_http_cwmp_xmpp_lost(x, "out of memory");
        return;
    }

    x->out = ngx_create_temp_buf(x->pool, 16384);
    if (x->out == NULL) {
        ngx_http_cwmp_xmpp_lost(x, "out of memory");
        return;
    }

    ngx_memzero(&x->peer, sizeof(ngx_peer_connection_t));
    x->peer.sockaddr = x->conf->server->sockaddr;
    x->peer.socklen = x->conf->server->socklen;
    x->peer.name = &x->conf->server->name;
    x->peer.get = ngx_event_get_peer;
    x->peer.log = ngx_cycle->log;
    x->peer.log_error = NGX_ERROR_ERR;

    x->state = NGX_HTTP_CWMP_XMPP_CONNECTING;

    rc = ngx_event_connect_peer(&x->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_cwmp_xmpp_lost(x, "connect() failed");
        return;
    }

    c = x->peer.connection;
    c->data = x;
    c->read->handler = ngx_http_cwmp_xmpp_read;
    c->write->handler = ngx_http_cwmp_xmpp_write;
    c->pool = x->pool;

    /* the whole log-in has this long */
    ngx_add_timer(&x->timer, x->conf->timeout);

    if (x->conf->tls == NGX_HTTP_CWMP_XMPP_TLS_DIRECT) {
        /* TLS first (XEP-0368), once connected; the stream inside it */
        c->write->handler = ngx_http_cwmp_xmpp_connected;

        if (rc == NGX_OK) {
            ngx_http_cwmp_xmpp_tls(x);
        }

        return;
    }

    if (ngx_http_cwmp_xmpp_stream(x) != NGX_OK) {
        ngx_http_cwmp_xmpp_lost(x, "out of memory");
        return;
    }

    x->state = NGX_HTTP_CWMP_XMPP_FEATURES;
}


/* direct TLS: the TCP connection is made (or failed), the handshake */

static void
ngx_http_cwmp_xmpp_connected(ngx_event_t *ev)
{
    int                    err;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_http_cwmp_xmpp_t  *x;

    c = ev->data;
    x = c->data;

    if (x->state != NGX_HTTP_CWMP_XMPP_CONNECTING) {
        return;
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_cwmp_xmpp_lost(x, "connect() failed");
        return;
    }

    ngx_http_cwmp_xmpp_tls(x);
}


/* a stream opened: its header sent, a parser for what comes back */

static ngx_int_t
ngx_http_cwmp_xmpp_stream(ngx_http_cwmp_xmpp_t *x)
{
    u_char         buf[512], *p;
    xmlSAXHandler  sax;

    if (x->parser) {
        xmlFreeParserCtxt(x->parser);
    }

    ngx_memzero(&sax, sizeof(xmlSAXHandler));
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = ngx_http_cwmp_xmpp_sax_start;
    sax.endElementNs = ngx_http_cwmp_xmpp_sax_end;
    sax.characters = ngx_http_cwmp_xmpp_sax_text;
    sax.internalSubset = ngx_http_cwmp_xmpp_sax_subset;

    x->parser = xmlCreatePushParserCtxt(&sax, x, NULL, 0, NULL);
    if (x->parser == NULL) {
        return NGX_ERROR;
    }

    xmlCtxtUseOptions(x->parser, XML_PARSE_NONET | XML_PARSE_NOWARNING
                                 | XML_PARSE_NOERROR);
    x->depth = 0;
    x->failed = 0;

    p = ngx_snprintf(buf, sizeof(buf),
                     "<stream:stream to='%V' "
                     "xmlns='jabber:client' "
                     "xmlns:stream='http://etherx.jabber.org/streams' "
                     "version='1.0'>", &x->conf->domain);

    return ngx_http_cwmp_xmpp_send(x, buf, p - buf);
}


/* the stream ends: now, or once the parser that is running returns */

static void
ngx_http_cwmp_xmpp_drop(ngx_http_cwmp_xmpp_t *x, char *why)
{
    if (!x->parsing) {
        ngx_http_cwmp_xmpp_lost(x, why);
        return;
    }

    if (x->drop == NULL) {
        x->drop = why;
    }

    xmlStopParser(x->parser);
}


/* the stream is gone (or never came): pending IQs fail, later again */

static void
ngx_http_cwmp_xmpp_lost(ngx_http_cwmp_xmpp_t *x, char *why)
{
    ngx_msec_t                delay;
    ngx_queue_t              *q;
    ngx_http_cwmp_xmpp_iq_t  *iq;

    if (!x->outage) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "cwmp: xmpp \"%V\": %s; connecting again, with "
                      "backoff", x->conf->server ? &x->conf->server->name
                                                 : &x->conf->domain, why);
        x->outage = 1;

    } else {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "cwmp: xmpp: %s", why);
    }

    while (!ngx_queue_empty(&x->pending)) {
        q = ngx_queue_head(&x->pending);
        iq = ngx_queue_data(q, ngx_http_cwmp_xmpp_iq_t, queue);
        ngx_http_cwmp_xmpp_iq_finish(iq, "offline",
                                     "the XMPP stream was lost");
    }

    ngx_http_cwmp_xmpp_teardown(x);

    if (x->ping.timer_set) {
        ngx_del_timer(&x->ping);
    }

    x->state = NGX_HTTP_CWMP_XMPP_IDLE;
    x->ping_sent = 0;
    x->secure = 0;
    x->upgrade = 0;
    x->restart = 0;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    x->backoff = x->backoff ? ngx_min(x->backoff * 2,
                                      NGX_HTTP_CWMP_XMPP_BACKOFF_MAX)
                            : 500;
    delay = x->backoff / 2 + (ngx_msec_t) ngx_random() % (x->backoff / 2 + 1);

    if (x->timer.timer_set) {
        ngx_del_timer(&x->timer);
    }

    ngx_add_timer(&x->timer, delay);
}


/* the log-in took too long, or the backoff is over */

static void
ngx_http_cwmp_xmpp_timer(ngx_event_t *ev)
{
    ngx_http_cwmp_xmpp_t  *x = ev->data;

    if (x->state == NGX_HTTP_CWMP_XMPP_IDLE) {
        ngx_http_cwmp_xmpp_connect(x);
        return;
    }

    if (x->state != NGX_HTTP_CWMP_XMPP_READY) {
        ngx_http_cwmp_xmpp_lost(x, "the log-in did not finish in time");
    }
}


/*
 * Every keepalive an XEP-0199 ping to the server; its answer (a result,
 * or an error from a server without the XEP: both prove it is there) is
 * due within the timeout, else the connection is half-open (a NAT that
 * forgot it, a server that hangs) and is dropped.
 */

static void
ngx_http_cwmp_xmpp_ping(ngx_event_t *ev)
{
    u_char                 buf[256], *p;
    ngx_http_cwmp_xmpp_t  *x = ev->data;

    if (x->state != NGX_HTTP_CWMP_XMPP_READY) {
        return;
    }

    if (x->ping_sent) {
        ngx_http_cwmp_xmpp_lost(x, "the server did not answer a ping in "
                                "time (a half-open connection)");
        return;
    }

    p = ngx_snprintf(buf, sizeof(buf),
                     "<iq type='get' id='ping' to='%V'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>", &x->conf->domain);

    if (ngx_http_cwmp_xmpp_send(x, buf, p - buf) != NGX_OK) {
        ngx_http_cwmp_xmpp_lost(x, "the keepalive could not be sent");
        return;
    }

    x->ping_sent = 1;
    ngx_add_timer(&x->ping, x->conf->timeout);
}


static void
ngx_http_cwmp_xmpp_read(ngx_event_t *ev)
{
    int                    rc;
    char                  *why;
    u_char                 buf[8192];
    ssize_t                n;
    ngx_connection_t      *c;
    ngx_http_cwmp_xmpp_t  *x;

    c = ev->data;
    x = c->data;

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_cwmp_xmpp_lost(x, "the read event failed");
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_cwmp_xmpp_lost(x, "the server closed the stream");
            return;
        }

        x->parsing = 1;
        rc = xmlParseChunk(x->parser, (char *) buf, (int) n, 0);
        x->parsing = 0;

        if (x->drop) {
            why = x->drop;
            x->drop = NULL;
            ngx_http_cwmp_xmpp_lost(x, why);
            return;
        }

        if (x->upgrade) {
            x->upgrade = 0;
            ngx_http_cwmp_xmpp_tls(x);
            return;
        }

        if (x->restart) {
            x->restart = 0;

            if (ngx_http_cwmp_xmpp_stream(x) != NGX_OK) {
                ngx_http_cwmp_xmpp_lost(x, "out of memory");
                return;
            }

            continue;
        }

        if (rc != 0 || x->failed) {
            ngx_http_cwmp_xmpp_lost(x, x->failed ? "the server sent an "
                                    "oversize, too deep or forbidden stanza,"
                                    " or ended the stream"
                                    : "the server sent malformed XML");
            return;
        }
    }
}


static void
ngx_http_cwmp_xmpp_write(ngx_event_t *ev)
{
    ngx_connection_t      *c;
    ngx_http_cwmp_xmpp_t  *x;

    c = ev->data;
    x = c->data;

    if (ngx_http_cwmp_xmpp_send(x, NULL, 0) != NGX_OK) {
        ngx_http_cwmp_xmpp_lost(x, "send() failed");
    }
}


/* data appended to what is to go, and as much of it sent as can be */

static ngx_int_t
ngx_http_cwmp_xmpp_send(ngx_http_cwmp_xmpp_t *x, u_char *data, size_t len)
{
    size_t             size;
    ssize_t            n;
    ngx_buf_t         *b, *nb;
    ngx_connection_t  *c;

    b = x->out;
    c = x->peer.connection;

    if (len) {
        if ((size_t) (b->end - b->last) < len) {
            /* compact, then grow */
            size = b->last - b->pos;
            ngx_memmove(b->start, b->pos, size);
            b->pos = b->start;
            b->last = b->start + size;

            if ((size_t) (b->end - b->last) < len) {
                if (size + len > NGX_HTTP_CWMP_XMPP_OUT_MAX) {
                    return NGX_ERROR;
                }

                nb = ngx_create_temp_buf(x->pool, 2 * (size + len));
                if (nb == NULL) {
                    return NGX_ERROR;
                }

                nb->last = ngx_cpymem(nb->pos, b->pos, size);
                x->out = b = nb;
            }
        }

        b->last = ngx_cpymem(b->last, data, len);
    }

    if (c == NULL) {
        return NGX_ERROR;
    }

    while (b->pos < b->last) {
        n = c->send(c, b->pos, b->last - b->pos);

        if (n == NGX_AGAIN) {
            return ngx_handle_write_event(c->write, 0);
        }

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        b->pos += n;
    }

    b->pos = b->start;
    b->last = b->start;

    return NGX_OK;
}


/* --- what the server sends, a stanza at a time -------------------------- */

static void
ngx_http_cwmp_xmpp_copy(u_char *dst, size_t size, const xmlChar *src)
{
    size_t  n;

    n = src ? ngx_min(ngx_strlen(src), size - 1) : 0;
    ngx_memcpy(dst, src, n);
    dst[n] = '\0';
}


static void
ngx_http_cwmp_xmpp_sax_start(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri, int nb_namespaces,
    const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
    const xmlChar **attributes)
{
    ngx_http_cwmp_xmpp_t  *x = ctx;

    int                           i;
    size_t                        n;
    ngx_http_cwmp_xmpp_stanza_t  *st;

    st = &x->st;
    x->depth++;

    if (x->depth > NGX_HTTP_CWMP_XMPP_DEPTH_MAX) {
        x->failed = 1;
        xmlStopParser(x->parser);
        return;
    }

    if (x->depth == 2) {
        ngx_memzero(st, sizeof(ngx_http_cwmp_xmpp_stanza_t));
        ngx_http_cwmp_xmpp_copy(st->name, sizeof(st->name), localname);
        x->stanza_bytes = 0;

        /* attributes: localname, prefix, URI, value, end */
        for (i = 0; i < nb_attributes; i++) {
            n = attributes[i * 5 + 4] - attributes[i * 5 + 3];

            if (ngx_strcmp(attributes[i * 5], "type") == 0) {
                ngx_memcpy(st->type, attributes[i * 5 + 3],
                           ngx_min(n, sizeof(st->type) - 1));

            } else if (ngx_strcmp(attributes[i * 5], "id") == 0) {
                ngx_memcpy(st->id, attributes[i * 5 + 3],
                           ngx_min(n, sizeof(st->id) - 1));
            }
        }

        return;
    }

    if (x->depth == 3 && st->child[0] == '\0') {
        ngx_http_cwmp_xmpp_copy(st->child, sizeof(st->child), localname);
    }

    if (x->depth == 3 && ngx_strcmp(localname, "bind") == 0) {
        st->bind = 1;
    }

    if (x->depth == 3 && ngx_strcmp(localname, "starttls") == 0) {
        st->starttls = 1;
    }

    if (x->depth == 4 && ngx_strcmp(localname, "mechanism") == 0) {
        st->in_mechanism = 1;
        st->mechanism_len = 0;
    }

    if (x->depth == 4 && ngx_strcmp(localname, "jid") == 0) {
        st->in_jid = 1;
    }

    /* <error type=...><condition xmlns="...stanzas"/></error> */
    if (x->depth == 4 && ngx_strcmp(st->child, "error") == 0
        && st->condition[0] == '\0'
        && ngx_strcmp(localname, "text") != 0)
    {
        ngx_http_cwmp_xmpp_copy(st->condition, sizeof(st->condition),
                                localname);
    }

    if (x->depth == 3 && ngx_strcmp(st->name, "iq") == 0
        && ngx_strcmp(localname, "error") == 0)
    {
        ngx_http_cwmp_xmpp_copy(st->child, sizeof(st->child), localname);
    }
}


static void
ngx_http_cwmp_xmpp_sax_end(void *ctx, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
    ngx_http_cwmp_xmpp_t  *x = ctx;

    ngx_http_cwmp_xmpp_stanza_t  *st;

    st = &x->st;

    if (x->depth == 4 && st->in_mechanism) {
        st->in_mechanism = 0;

        st->mechanisms |= ngx_http_cwmp_sasl_mechanism(st->mechanism,
                                                       st->mechanism_len);
    }

    if (x->depth == 4) {
        st->in_jid = 0;
    }

    x->depth--;

    if (x->depth == 1) {
        ngx_http_cwmp_xmpp_stanza(x);
    }

    if (x->depth == 0) {
        /* </stream:stream> */
        x->failed = 1;
        xmlStopParser(x->parser);
    }
}


static void
ngx_http_cwmp_xmpp_sax_text(void *ctx, const xmlChar *ch, int len)
{
    ngx_http_cwmp_xmpp_t  *x = ctx;

    size_t                        n;
    ngx_http_cwmp_xmpp_stanza_t  *st;

    st = &x->st;
    x->stanza_bytes += len;

    if (x->stanza_bytes > NGX_HTTP_CWMP_XMPP_STANZA_MAX) {
        x->failed = 1;
        xmlStopParser(x->parser);
        return;
    }

    if (x->depth == 2) {
        n = ngx_min((size_t) len, sizeof(st->text) - st->text_len);
        ngx_memcpy(st->text + st->text_len, ch, n);
        st->text_len += n;

    } else if (st->in_mechanism) {
        n = ngx_min((size_t) len, sizeof(st->mechanism) - st->mechanism_len);
        ngx_memcpy(st->mechanism + st->mechanism_len, ch, n);
        st->mechanism_len += n;

    } else if (st->in_jid) {
        n = ngx_min((size_t) len, sizeof(st->jid) - st->jid_len);
        ngx_memcpy(st->jid + st->jid_len, ch, n);
        st->jid_len += n;
    }
}


/* a DOCTYPE: never in XMPP */

static void
ngx_http_cwmp_xmpp_sax_subset(void *ctx, const xmlChar *name,
    const xmlChar *external_id, const xmlChar *system_id)
{
    ngx_http_cwmp_xmpp_t  *x = ctx;

    x->failed = 1;
    xmlStopParser(x->parser);
}


/* a whole stanza: the log-in's next step, or an IQ's answer */

static void
ngx_http_cwmp_xmpp_stanza(ngx_http_cwmp_xmpp_t *x)
{
    u_char                        buf[1200], *p;
    ngx_str_t                     in;
    ngx_uint_t                    level;
    ngx_http_cwmp_xmpp_stanza_t  *st;

    st = &x->st;

    switch (x->state) {

    case NGX_HTTP_CWMP_XMPP_FEATURES:
        if (ngx_strcmp(st->name, "features") != 0) {
            return;
        }

        if (x->conf->tls && !x->secure) {
            if (!st->starttls) {
                ngx_http_cwmp_xmpp_drop(x, "the server offers no STARTTLS");
                return;
            }

            p = ngx_cpymem(buf, "<starttls xmlns='urn:ietf:params:xml:ns:"
                                "xmpp-tls'/>",
                           sizeof("<starttls xmlns='urn:ietf:params:xml:ns:"
                                  "xmpp-tls'/>") - 1);

            if (ngx_http_cwmp_xmpp_send(x, buf, p - buf) != NGX_OK) {
                ngx_http_cwmp_xmpp_drop(x, "send() failed");
                return;
            }

            x->state = NGX_HTTP_CWMP_XMPP_STARTTLS;
            return;
        }

        x->scram.mechanism = ngx_http_cwmp_sasl_choose(st->mechanisms,
                                                       x->secure);

        if (x->scram.mechanism == 0) {
            ngx_http_cwmp_xmpp_drop(x, x->secure
                                    ? "the server offers neither SCRAM "
                                      "nor PLAIN"
                                    : "the server offers no SCRAM "
                                      "(PLAIN is not sent in the clear)");
            return;
        }

        if (ngx_http_cwmp_xmpp_sasl(x) != NGX_OK) {
            ngx_http_cwmp_xmpp_drop(x, "out of memory");
            return;
        }

        x->state = NGX_HTTP_CWMP_XMPP_SASL;
        return;

    case NGX_HTTP_CWMP_XMPP_STARTTLS:
        if (ngx_strcmp(st->name, "proceed") != 0) {
            ngx_http_cwmp_xmpp_drop(x, "the server refused STARTTLS");
            return;
        }

        /* the handshake, once this parser is done with its chunk */
        x->upgrade = 1;
        xmlStopParser(x->parser);
        return;

    case NGX_HTTP_CWMP_XMPP_SASL:
        if (ngx_strcmp(st->name, "challenge") == 0) {
            in.data = st->text;
            in.len = st->text_len;
            p = ngx_http_cwmp_sasl_scram_final(&x->scram, buf,
                                               buf + sizeof(buf),
                                               &x->conf->password, &in);

            if (x->scram.mechanism == NGX_HTTP_CWMP_SASL_PLAIN || p == NULL) {
                ngx_http_cwmp_xmpp_drop(x, "the server's SCRAM challenge "
                                        "is not one");
                return;
            }

            if (ngx_http_cwmp_xmpp_send(x, buf, p - buf) != NGX_OK) {
                ngx_http_cwmp_xmpp_drop(x, "send() failed");
            }

            return;
        }

        if (ngx_strcmp(st->name, "success") == 0) {
            in.data = st->text;
            in.len = st->text_len;

            if (x->scram.mechanism != NGX_HTTP_CWMP_SASL_PLAIN
                && ngx_http_cwmp_sasl_scram_verify(&x->scram, &in) != NGX_OK)
            {
                ngx_http_cwmp_xmpp_drop(x, "the server's SCRAM signature "
                                        "is wrong (it does not know the "
                                        "password)");
                return;
            }

            /* RFC 6120: the stream starts again, once this parser is
             * done with its chunk */
            x->restart = 1;
            xmlStopParser(x->parser);
            x->state = NGX_HTTP_CWMP_XMPP_FEATURES2;
            return;
        }

        ngx_http_cwmp_xmpp_drop(x, "authentication failed (the JID or "
                                "the password of cwmp_xmpp)");
        return;

    case NGX_HTTP_CWMP_XMPP_FEATURES2:
        if (ngx_strcmp(st->name, "features") != 0 || !st->bind) {
            return;
        }

        p = ngx_snprintf(buf, sizeof(buf),
                         "<iq type='set' id='bind'><bind xmlns='urn:ietf:"
                         "params:xml:ns:xmpp-bind'><resource>%V</resource>"
                         "</bind></iq>", &x->resource);

        if (ngx_http_cwmp_xmpp_send(x, buf, p - buf) != NGX_OK) {
            ngx_http_cwmp_xmpp_drop(x, "send() failed");
            return;
        }

        x->state = NGX_HTTP_CWMP_XMPP_BIND;
        return;

    case NGX_HTTP_CWMP_XMPP_BIND:
        if (ngx_strcmp(st->name, "iq") != 0
            || ngx_strcmp(st->id, "bind") != 0)
        {
            return;
        }

        if (ngx_strcmp(st->type, "result") != 0) {
            ngx_http_cwmp_xmpp_drop(x, "the server refused the resource");
            return;
        }

        p = ngx_cpymem(buf, "<presence/>", sizeof("<presence/>") - 1);

        if (ngx_http_cwmp_xmpp_send(x, buf, p - buf) != NGX_OK) {
            ngx_http_cwmp_xmpp_drop(x, "send() failed");
            return;
        }

        if (x->timer.timer_set) {
            ngx_del_timer(&x->timer);
        }

        ngx_add_timer(&x->ping, x->conf->keepalive);

        level = x->outage ? NGX_LOG_NOTICE : NGX_LOG_INFO;

        ngx_log_error(level, ngx_cycle->log, 0,
                      "cwmp: xmpp: logged in %sas \"%*s\" (%s%s)",
                      x->outage ? "again " : "", st->jid_len, st->jid,
                      ngx_http_cwmp_sasl_name(x->scram.mechanism),
                      x->secure ? ", TLS" : "");

        x->state = NGX_HTTP_CWMP_XMPP_READY;
        x->outage = 0;
        x->backoff = 0;
        return;

    case NGX_HTTP_CWMP_XMPP_READY:
        if (ngx_strcmp(st->name, "iq") == 0
            && (ngx_strcmp(st->type, "result") == 0
                || ngx_strcmp(st->type, "error") == 0))
        {
            if (ngx_strcmp(st->id, "ping") == 0) {
                x->ping_sent = 0;

                if (x->ping.timer_set) {
                    ngx_del_timer(&x->ping);
                }

                ngx_add_timer(&x->ping, x->conf->keepalive);
                return;
            }

            ngx_http_cwmp_xmpp_iq_answer(x);
        }

        /* presences, messages, a server's IQ get: nothing to do here
         * (RFC 6120 wants an error for an IQ get; the ACS offers none) */
        return;

    default:
        return;
    }
}


/* --- STARTTLS (RFC 6120 5): nginx's SSL layer on the connection ------- */

static void
ngx_http_cwmp_xmpp_tls(ngx_http_cwmp_xmpp_t *x)
{
#if (NGX_SSL)
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = x->peer.connection;

    if (ngx_ssl_create_connection(x->conf->ssl, c, NGX_SSL_BUFFER
                                                   | NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_cwmp_xmpp_lost(x, "the TLS connection could not be made");
        return;
    }

    /* SNI: the JID's domain */
    if (x->conf->domain.len < 256) {
        u_char  name[256];

        ngx_memcpy(name, x->conf->domain.data, x->conf->domain.len);
        name[x->conf->domain.len] = '\0';
        (void) SSL_set_tlsext_host_name(c->ssl->connection, (char *) name);
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_cwmp_xmpp_tls_done;
        return;
    }

    ngx_http_cwmp_xmpp_tls_done(c);
#else
    ngx_http_cwmp_xmpp_lost(x, "no SSL in this nginx");
#endif
}


#if (NGX_SSL)

static void
ngx_http_cwmp_xmpp_tls_done(ngx_connection_t *c)
{
    long                   rc;
    ngx_http_cwmp_xmpp_t  *x;

    x = c->data;

    if (!c->ssl || !c->ssl->handshaked) {
        ngx_http_cwmp_xmpp_lost(x, "the TLS handshake failed");
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "cwmp: xmpp: the server's certificate does not verify: "
                      "(%l: %s)", rc, X509_verify_cert_error_string(rc));
        x->outage = 1;
        ngx_http_cwmp_xmpp_lost(x, "the server's certificate does not verify");
        return;
    }

    if (ngx_ssl_check_host(c, &x->conf->domain) != NGX_OK) {
        ngx_http_cwmp_xmpp_lost(x, "the server's certificate is not for the "
                                "JID's domain");
        return;
    }

    c->read->handler = ngx_http_cwmp_xmpp_read;
    c->write->handler = ngx_http_cwmp_xmpp_write;
    x->secure = 1;

    /* the stream again, over TLS */

    if (ngx_http_cwmp_xmpp_stream(x) != NGX_OK) {
        ngx_http_cwmp_xmpp_lost(x, "out of memory");
        return;
    }

    x->state = NGX_HTTP_CWMP_XMPP_FEATURES;

    if (c->read->ready) {
        ngx_http_cwmp_xmpp_read(c->read);
    }
}

#endif


/* the connection closed, its TLS freed first */

static void
ngx_http_cwmp_xmpp_close(ngx_connection_t *c)
{
#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);
}


/* SASL's first message: PLAIN's only one, or SCRAM's client-first */

static ngx_int_t
ngx_http_cwmp_xmpp_sasl(ngx_http_cwmp_xmpp_t *x)
{
    u_char  buf[1200], *p;

    if (x->scram.mechanism == NGX_HTTP_CWMP_SASL_PLAIN) {
        p = ngx_http_cwmp_sasl_plain(buf, buf + sizeof(buf), &x->conf->user,
                                     &x->conf->password);

    } else {
        p = ngx_http_cwmp_sasl_scram_first(&x->scram, buf, buf + sizeof(buf),
                                           &x->conf->user, ngx_cycle->log);
    }

    if (p == NULL) {
        return NGX_ERROR;
    }

    p = (ngx_http_cwmp_xmpp_send(x, buf, p - buf) == NGX_OK) ? buf : NULL;
    ngx_explicit_memzero(buf, sizeof(buf));

    return p ? NGX_OK : NGX_ERROR;
}


/* --- connection requests ---------------------------------------------- */

ngx_int_t
ngx_http_cwmp_xmpp_request(ngx_str_t *to, ngx_str_t *username,
    ngx_str_t *password, ngx_msec_t timeout, ngx_http_cwmp_xmpp_done_pt done,
    void *data, char **why)
{
    ngx_pool_t               *pool;
    ngx_int_t                 rc;
    ngx_http_cwmp_xml_t       w;
    ngx_http_cwmp_xmpp_t     *x;
    ngx_http_cwmp_xmpp_iq_t  *iq;

    x = ngx_http_cwmp_xmpp_client;

    if (x == NULL || x->state != NGX_HTTP_CWMP_XMPP_READY) {
        *why = "the ACS is not logged in to its XMPP server";
        return NGX_DECLINED;
    }

    iq = ngx_calloc(sizeof(ngx_http_cwmp_xmpp_iq_t), ngx_cycle->log);
    pool = ngx_create_pool(1024, ngx_cycle->log);

    if (iq == NULL || pool == NULL) {
        if (pool) {
            ngx_destroy_pool(pool);
        }

        if (iq) {
            ngx_free(iq);
        }

        return NGX_ERROR;
    }

    (void) ngx_sprintf(iq->id, "cr%014xi%Z", ++x->next_id);

    /* the Annex's IQ, every string escaped by the one XML writer */

    ngx_memzero(&w, sizeof(ngx_http_cwmp_xml_t));
    w.pool = pool;

    ngx_http_cwmp_xml_literal(&w, "<iq type='get' id='");
    ngx_http_cwmp_xml_raw(&w, (char *) iq->id);
    ngx_http_cwmp_xml_literal(&w, "' to='");
    ngx_http_cwmp_xml_text(&w, (char *) to->data, to->len);
    ngx_http_cwmp_xml_literal(&w, "'><connectionRequest xmlns='"
                              NGX_HTTP_CWMP_XMPP_NS_CR "'>");
    ngx_http_cwmp_xml_element(&w, "username", (char *) username->data,
                              username->len);
    ngx_http_cwmp_xml_element(&w, "password", (char *) password->data,
                              password->len);
    ngx_http_cwmp_xml_literal(&w, "</connectionRequest></iq>");

    if (w.nomem || w.error) {
        ngx_destroy_pool(pool);
        ngx_free(iq);
        *why = w.error ? w.error : "out of memory";
        return w.nomem ? NGX_ERROR : NGX_DECLINED;
    }

    rc = ngx_http_cwmp_xmpp_send(x, w.start, w.pos - w.start);
    ngx_destroy_pool(pool);

    if (rc != NGX_OK) {
        ngx_free(iq);
        ngx_http_cwmp_xmpp_drop(x, "send() failed");
        *why = "the XMPP stream was lost";
        return NGX_DECLINED;
    }

    iq->done = done;
    iq->data = data;
    iq->timer.handler = ngx_http_cwmp_xmpp_iq_timeout;
    iq->timer.data = iq;
    iq->timer.log = ngx_cycle->log;
    iq->timer.cancelable = 1;
    ngx_add_timer(&iq->timer, timeout);

    ngx_queue_insert_tail(&x->pending, &iq->queue);

    return NGX_OK;
}


static void
ngx_http_cwmp_xmpp_iq_answer(ngx_http_cwmp_xmpp_t *x)
{
    ngx_queue_t                  *q;
    ngx_http_cwmp_xmpp_iq_t      *iq;
    ngx_http_cwmp_xmpp_stanza_t  *st;

    st = &x->st;

    for (q = ngx_queue_head(&x->pending);
         q != ngx_queue_sentinel(&x->pending);
         q = ngx_queue_next(q))
    {
        iq = ngx_queue_data(q, ngx_http_cwmp_xmpp_iq_t, queue);

        if (ngx_strcmp(iq->id, st->id) != 0) {
            continue;
        }

        if (ngx_strcmp(st->type, "result") == 0) {
            ngx_http_cwmp_xmpp_iq_finish(iq, "ok", "sent over XMPP");

        } else if (ngx_strcmp(st->condition, "not-authorized") == 0
                   || ngx_strcmp(st->condition, "forbidden") == 0)
        {
            ngx_http_cwmp_xmpp_iq_finish(iq, "auth_failed",
                                         "the CPE refused the credentials "
                                         "(XMPP not-authorized)");

        } else if (ngx_strcmp(st->condition, "service-unavailable") == 0
                   || ngx_strcmp(st->condition, "recipient-unavailable")
                      == 0
                   || ngx_strcmp(st->condition, "item-not-found") == 0)
        {
            ngx_http_cwmp_xmpp_iq_finish(iq, "offline",
                                         "the CPE is not online on XMPP");

        } else {
            ngx_http_cwmp_xmpp_iq_finish(iq, "refused",
                                         "the XMPP request got an error");
        }

        return;
    }

    /* an answer to no IQ of ours: ignored */
    ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                  "cwmp: xmpp: an answer to no request of ours (id \"%s\")",
                  st->id);
}


static void
ngx_http_cwmp_xmpp_iq_timeout(ngx_event_t *ev)
{
    ngx_http_cwmp_xmpp_iq_finish(ev->data, "offline",
                                 "no XMPP answer in time");
}


static void
ngx_http_cwmp_xmpp_iq_finish(ngx_http_cwmp_xmpp_iq_t *iq, char *status,
    char *detail)
{
    void                        *data;
    ngx_http_cwmp_xmpp_done_pt   done;

    if (iq->timer.timer_set) {
        ngx_del_timer(&iq->timer);
    }

    ngx_queue_remove(&iq->queue);

    done = iq->done;
    data = iq->data;
    ngx_free(iq);

    done(data, status, detail);
}
