
/*
 * Copyright (C) ngx_cwmp authors
 *
 * A STUN server for TR-069 Annex G (TR-111): CPEs behind a NAT send it
 * Binding Requests; it answers each with the address and port it saw
 * (MAPPED-ADDRESS for RFC 3489 clients, XOR-MAPPED-ADDRESS too for RFC
 * 5389 ones), and when the request carries CONNECTION-REQUEST-BINDING and
 * a USERNAME (the device ID), records that mapping in Redis
 * (cwmp:device:{<ID>}:stun), where UDP connection requests find it.
 *
 *     stream {
 *         server {
 *             listen 3478 udp;
 *             cwmp_stun;
 *             cwmp_stun_password <shared STUN password>;   # optional
 *         }
 *     }
 *
 * A device with its own STUN password in Redis (cwmp:device:{<ID>}:connreq
 * "stun_password") is recorded only when its MESSAGE-INTEGRITY (HMAC-SHA1,
 * RFC 5389) checks against it; others against cwmp_stun_password when it
 * is set.  Every Binding Request is answered; anything that is not one is
 * dropped without an answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_stream.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_util.h"
#include "ngx_http_cwmp_store.h"
#include "ngx_stream_cwmp_stun_module.h"


#define NGX_STREAM_CWMP_STUN_COOKIE          0x2112A442
#define NGX_STREAM_CWMP_STUN_BINDING         0x0001
#define NGX_STREAM_CWMP_STUN_BINDING_OK      0x0101
#define NGX_STREAM_CWMP_STUN_MAPPED          0x0001
#define NGX_STREAM_CWMP_STUN_USERNAME        0x0006
#define NGX_STREAM_CWMP_STUN_INTEGRITY       0x0008
#define NGX_STREAM_CWMP_STUN_XOR_MAPPED      0x0020
#define NGX_STREAM_CWMP_STUN_CR_BINDING      0xC001
#define NGX_STREAM_CWMP_STUN_BINDING_CHANGE  0xC002


typedef struct {
    ngx_str_t                    password;
} ngx_stream_cwmp_stun_srv_conf_t;


typedef struct {
    ngx_pool_t                  *pool;
    ngx_str_t                    id;
    ngx_str_t                    address;
    ngx_int_t                    rc;            /* stun_binding.lua's */
} ngx_stream_cwmp_stun_op_t;


static void ngx_stream_cwmp_stun_handler(ngx_stream_session_t *s);
static ngx_int_t ngx_stream_cwmp_stun_integrity(ngx_str_t *key, u_char *msg,
    size_t len, u_char *mi);
static void ngx_stream_cwmp_stun_record(ngx_stream_session_t *s,
    ngx_str_t *username, ngx_uint_t change, ngx_uint_t trusted, u_char *msg,
    u_char *mi);
static ngx_int_t ngx_stream_cwmp_stun_checked(ngx_http_cwmp_redis_op_t *op,
    ngx_uint_t i, void *reply);
static void ngx_stream_cwmp_stun_recorded(ngx_http_cwmp_redis_op_t *op,
    ngx_int_t rc);
static void *ngx_stream_cwmp_stun_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_cwmp_stun_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_stream_cwmp_stun(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_stream_cwmp_stun_commands[] = {

    { ngx_string("cwmp_stun"),
      NGX_STREAM_SRV_CONF|NGX_CONF_NOARGS,
      ngx_stream_cwmp_stun,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cwmp_stun_password"),
      NGX_STREAM_MAIN_CONF|NGX_STREAM_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_cwmp_stun_srv_conf_t, password),
      NULL },

      ngx_null_command
};


static ngx_stream_module_t  ngx_stream_cwmp_stun_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    ngx_stream_cwmp_stun_create_srv_conf,  /* create server configuration */
    ngx_stream_cwmp_stun_merge_srv_conf    /* merge server configuration */
};


ngx_module_t  ngx_stream_cwmp_stun_module = {
    NGX_MODULE_V1,
    &ngx_stream_cwmp_stun_module_ctx,      /* module context */
    ngx_stream_cwmp_stun_commands,         /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * A datagram, read: NGX_OK for a Binding Request (its USERNAME, the TR-111
 * attributes, where MESSAGE-INTEGRITY is), NGX_DECLINED for anything else.
 * Network input: every length is checked against the datagram's.
 */

ngx_int_t
ngx_stream_cwmp_stun_parse(u_char *p, size_t len,
    ngx_stream_cwmp_stun_req_t *req)
{
    u_char    *end, *attr;
    size_t     alen, adv;
    uint16_t   type;
    uint32_t   cookie;

    ngx_memzero(req, sizeof(ngx_stream_cwmp_stun_req_t));

    if (len < 20 || (p[0] & 0xc0)) {
        return NGX_DECLINED;
    }

    type = (p[0] << 8) | p[1];
    alen = (p[2] << 8) | p[3];
    cookie = ((uint32_t) p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7];

    if (type != NGX_STREAM_CWMP_STUN_BINDING || 20 + alen > len
        || alen % 4)
    {
        return NGX_DECLINED;
    }

    req->msg = p;
    req->rfc5389 = (cookie == NGX_STREAM_CWMP_STUN_COOKIE);

    end = p + 20 + alen;

    for (attr = p + 20; end - attr >= 4; attr += adv) {
        type = (attr[0] << 8) | attr[1];
        alen = (attr[2] << 8) | attr[3];

        if ((size_t) (end - attr) < 4 + alen) {
            return NGX_DECLINED;
        }

        switch (type) {

        case NGX_STREAM_CWMP_STUN_USERNAME:
            if (alen > 0 && alen <= 256) {
                req->username.data = attr + 4;
                req->username.len = alen;
            }

            break;

        case NGX_STREAM_CWMP_STUN_CR_BINDING:
            req->binding = 1;
            break;

        case NGX_STREAM_CWMP_STUN_BINDING_CHANGE:
            req->change = 1;
            break;

        case NGX_STREAM_CWMP_STUN_INTEGRITY:
            if (alen == 20 && req->mi == NULL) {
                req->mi = attr;
            }

            break;
        }

        /* RFC 5389 pads attributes to 4 bytes; RFC 3489 ones are whole */

        adv = 4 + ((alen + 3) & ~((size_t) 3));

        if ((size_t) (end - attr) < adv) {
            break;
        }
    }

    return NGX_OK;
}


static void
ngx_stream_cwmp_stun_handler(ngx_stream_session_t *s)
{
    u_char                           *p, *attr, *mi, out[68], ch;
    size_t                            len;
    uint16_t                          port;
    uint32_t                          addr;
    ngx_str_t                         username;
    ngx_uint_t                        rfc5389, binding, change, trusted, i;
    ngx_buf_t                        *b;
    ngx_connection_t                 *c;
    struct sockaddr_in               *sin;
    ngx_stream_cwmp_stun_req_t        req;
    ngx_stream_cwmp_stun_srv_conf_t  *scf;

    c = s->connection;
    b = c->buffer;
    scf = ngx_stream_get_module_srv_conf(s, ngx_stream_cwmp_stun_module);

    if (c->type != SOCK_DGRAM || b == NULL
        || c->sockaddr->sa_family != AF_INET)
    {
        goto drop;
    }

    p = b->pos;
    len = b->last - b->pos;

    if (ngx_stream_cwmp_stun_parse(p, len, &req) != NGX_OK) {
        goto drop;
    }

    rfc5389 = req.rfc5389;
    binding = req.binding;
    change = req.change;
    username = req.username;
    mi = req.mi;

    trusted = (scf->password.len == 0);

    if (mi && scf->password.len
        && ngx_stream_cwmp_stun_integrity(&scf->password, p, mi - p, mi + 4)
           == NGX_OK)
    {
        trusted = 1;
    }

    /* the answer: MAPPED-ADDRESS, and XOR-MAPPED-ADDRESS for RFC 5389 */

    sin = (struct sockaddr_in *) c->sockaddr;
    port = ntohs(sin->sin_port);
    addr = ntohl(sin->sin_addr.s_addr);

    ngx_memcpy(out, p, 20);
    out[0] = NGX_STREAM_CWMP_STUN_BINDING_OK >> 8;
    out[1] = NGX_STREAM_CWMP_STUN_BINDING_OK & 0xff;

    attr = out + 20;

    *attr++ = 0; *attr++ = NGX_STREAM_CWMP_STUN_MAPPED;
    *attr++ = 0; *attr++ = 8;
    *attr++ = 0; *attr++ = 1;
    *attr++ = port >> 8; *attr++ = port & 0xff;
    *attr++ = addr >> 24; *attr++ = (addr >> 16) & 0xff;
    *attr++ = (addr >> 8) & 0xff; *attr++ = addr & 0xff;

    if (rfc5389) {
        port ^= NGX_STREAM_CWMP_STUN_COOKIE >> 16;
        addr ^= NGX_STREAM_CWMP_STUN_COOKIE;

        *attr++ = 0; *attr++ = NGX_STREAM_CWMP_STUN_XOR_MAPPED;
        *attr++ = 0; *attr++ = 8;
        *attr++ = 0; *attr++ = 1;
        *attr++ = port >> 8; *attr++ = port & 0xff;
        *attr++ = addr >> 24; *attr++ = (addr >> 16) & 0xff;
        *attr++ = (addr >> 8) & 0xff; *attr++ = addr & 0xff;
    }

    len = attr - out;
    out[2] = (len - 20) >> 8;
    out[3] = (len - 20) & 0xff;

    if (c->send(c, out, len) != (ssize_t) len) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "cwmp stun: the answer was not sent");
    }

    /* a device ID (redis-schema's form) or nothing: it names Redis keys */

    for (i = 0; i < username.len; i++) {
        ch = username.data[i];

        if (!(isalnum(ch) || ch == '-' || ch == '_' || ch == '%')) {
            ngx_str_null(&username);
            break;
        }
    }

    if (binding && username.len) {
        /* Redis decides: the device's own password, else "trusted" */
        ngx_stream_cwmp_stun_record(s, &username, change, trusted, p, mi);
    }

    ngx_stream_finalize_session(s, NGX_STREAM_OK);
    return;

drop:

    ngx_log_debug0(NGX_LOG_DEBUG_STREAM, c->log, 0,
                   "cwmp stun: not a Binding Request, dropped");

    ngx_stream_finalize_session(s, NGX_STREAM_OK);
}


/*
 * RFC 5389 15.4: HMAC-SHA1 over the message up to MESSAGE-INTEGRITY, its
 * length field counting the attribute; the key is the password (short-term
 * credentials).
 */

static ngx_int_t
ngx_stream_cwmp_stun_integrity(ngx_str_t *key, u_char *msg, size_t len,
    u_char *mi)
{
    u_char     mac[20], hdr[4];
    size_t     mlen;
    ngx_str_t  parts[2];

    mlen = len - 20 + 24;
    hdr[0] = msg[0];
    hdr[1] = msg[1];
    hdr[2] = mlen >> 8;
    hdr[3] = mlen & 0xff;

    parts[0].data = hdr;
    parts[0].len = 4;
    parts[1].data = msg + 4;
    parts[1].len = len - 4;

    ngx_http_cwmp_hmac_sha1(key, parts, 2, mac);

    /* not a secret compared: a timing difference reveals nothing here */

    return ngx_memcmp(mac, mi, 20) == 0 ? NGX_OK : NGX_DECLINED;
}


/*
 * cwmp:device:{<username>}:stun: the mapping, when it was seen, if the
 * request is authentic (stun_binding.lua: the device's own STUN password
 * when Redis has one, else "trusted").
 */

static void
ngx_stream_cwmp_stun_record(ngx_stream_session_t *s, ngx_str_t *username,
    ngx_uint_t change, ngx_uint_t trusted, u_char *msg, u_char *mi)
{
    size_t                      len;
    ngx_str_t                   text, hex;
    ngx_pool_t                 *pool;
    ngx_connection_t           *c;
    ngx_http_cwmp_redis_op_t   *op;
    ngx_http_cwmp_main_conf_t  *mcf;
    ngx_stream_cwmp_stun_op_t  *so;

    c = s->connection;

    mcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                              ngx_http_cwmp_module);

    if (mcf == NULL || mcf->store.redis == NULL) {
        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "cwmp stun: no Redis (a \"cwmp\" location and "
                      "\"cwmp_redis\" in http{}): binding not recorded");
        return;
    }

    pool = ngx_create_pool(1024, ngx_cycle->log);
    if (pool == NULL) {
        return;
    }

    so = ngx_pcalloc(pool, sizeof(ngx_stream_cwmp_stun_op_t));
    if (so == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    so->pool = pool;
    so->address.data = ngx_pnalloc(pool, NGX_SOCKADDR_STRLEN);
    so->id.len = username->len;
    so->id.data = ngx_pstrdup(pool, username);

    if (so->address.data == NULL || so->id.data == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    so->address.len = ngx_sock_ntop(c->sockaddr, c->socklen,
                                    so->address.data, NGX_SOCKADDR_STRLEN, 1);

    /* what MESSAGE-INTEGRITY covers, its length field counting it */

    ngx_str_null(&text);
    ngx_str_null(&hex);

    if (mi) {
        len = mi - msg;
        text.data = ngx_pnalloc(pool, len);
        hex.data = ngx_pnalloc(pool, 40);

        if (text.data == NULL || hex.data == NULL) {
            ngx_destroy_pool(pool);
            return;
        }

        ngx_memcpy(text.data, msg, len);
        text.data[2] = (len - 20 + 24) >> 8;
        text.data[3] = (len - 20 + 24) & 0xff;
        text.len = len;

        hex.len = ngx_hex_dump(hex.data, mi + 4, 20) - hex.data;
    }

    op = ngx_http_cwmp_store_stun(&mcf->store, pool, &so->id,
                                  &so->address, change, trusted, &text, &hex,
                                  ngx_cycle->log);
    if (op == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    /* the pool goes with the op: the session does not wait for Redis */

    so->rc = NGX_ERROR;
    op->data = so;
    op->reply = ngx_stream_cwmp_stun_checked;
    op->done = ngx_stream_cwmp_stun_recorded;

    if (ngx_http_cwmp_store_submit(&mcf->store, op, ngx_cycle->log)
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
    }
}


static ngx_int_t
ngx_stream_cwmp_stun_checked(ngx_http_cwmp_redis_op_t *op, ngx_uint_t i,
    void *reply)
{
    ngx_stream_cwmp_stun_op_t  *so;

    so = op->data;
    so->rc = ngx_http_cwmp_store_stun_recorded(reply);

    return NGX_OK;
}


static void
ngx_stream_cwmp_stun_recorded(ngx_http_cwmp_redis_op_t *op, ngx_int_t rc)
{
    ngx_stream_cwmp_stun_op_t  *so;

    so = op->data;

    if (rc == NGX_OK && so->rc == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "cwmp stun: \"%V\" is at %V", &so->id, &so->address);

    } else if (rc == NGX_OK && so->rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "cwmp stun: binding of \"%V\" not recorded: no valid "
                      "MESSAGE-INTEGRITY", &so->id);

    } else if (rc != NGX_ABORT) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "cwmp stun: binding of \"%V\" not recorded: redis "
                      "failed", &so->id);
    }

    ngx_destroy_pool(so->pool);
}
static void *
ngx_stream_cwmp_stun_create_srv_conf(ngx_conf_t *cf)
{
    ngx_stream_cwmp_stun_srv_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_cwmp_stun_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->password = { 0, NULL };
     */

    return conf;
}


static char *
ngx_stream_cwmp_stun_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_stream_cwmp_stun_srv_conf_t *prev = parent;
    ngx_stream_cwmp_stun_srv_conf_t *conf = child;

    ngx_conf_merge_str_value(conf->password, prev->password, "");

    return NGX_CONF_OK;
}


static char *
ngx_stream_cwmp_stun(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_core_srv_conf_t  *cscf;

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    if (cscf->handler) {
        return "is duplicate";
    }

    cscf->handler = ngx_stream_cwmp_stun_handler;

    return NGX_CONF_OK;
}
