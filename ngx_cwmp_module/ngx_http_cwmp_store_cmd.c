
/*
 * Copyright (C) ngx_cwmp authors
 *
 * A Redis command written: its name, its arguments, the names of keys.
 * A script call's KEYS come from its header (ngx_http_cwmp_scripts.c);
 * the store writes its arguments in the header's order.  Arguments made
 * here: the fleet's tail of the device scripts, the Inform's digest.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_md5.h>

#include "ngx_http_cwmp_store.h"


static ngx_int_t ngx_http_cwmp_store_key(ngx_pool_t *pool, ngx_str_t *prefix,
    ngx_str_t *key, ngx_str_t *tag, char *name);
static void ngx_http_cwmp_store_digest_add(ngx_md5_t *md5, ngx_str_t *s);


/* a command of max arguments at most, the first its name */

ngx_int_t
ngx_http_cwmp_store_cmd(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_uint_t max, char *name)
{
    c->st = st;
    c->pool = owner->pool;
    c->log = owner->log;
    c->max = max;
    c->failed = 0;
    c->defer = 0;
    c->cmd.nargs = 0;
    ngx_str_null(&c->route);
    ngx_str_null(&c->outbox);

    c->cmd.args = ngx_palloc(owner->pool, max * sizeof(ngx_str_t));
    if (c->cmd.args == NULL) {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg_text(c, name);

    return NGX_OK;
}


/*
 * A script call: EVALSHA <sha> <nkeys> <keys>, and room for nargv more
 * arguments.  A key name starting with ":" (or empty) is the device's,
 * <prefix>device:{<tag>}<name>; one with "{}" has the tag in its braces
 * (a shard, a policy, an address); any other is a global <prefix><name>.
 */

ngx_int_t
ngx_http_cwmp_store_script(ngx_http_cwmp_store_cmd_t *c,
    ngx_http_cwmp_store_t *st, ngx_http_cwmp_store_owner_t *owner,
    ngx_uint_t script, ngx_str_t *tag, ngx_uint_t nargv)
{
    char       **keys;
    ngx_uint_t   i, n;

    keys = ngx_http_cwmp_script_keys[script];

    for (n = 0; keys[n]; n++) { /* void */ }

    if (ngx_http_cwmp_store_cmd(c, st, owner, 3 + n + nargv, "EVALSHA")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_store_arg(c, ngx_http_cwmp_redis_script(st->redis, script));
    ngx_http_cwmp_store_arg_num(c, n);

    for (i = 0; i < n; i++) {
        if (ngx_http_cwmp_store_key(owner->pool, &st->prefix,
                                    &c->cmd.args[3 + i], tag, keys[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_strcmp(keys[i], ":outbox") == 0) {
            c->outbox = c->cmd.args[3 + i];
        }
    }

    c->cmd.nargs += n;

    /* a script's keys are all on the slot of its first */

    if (n) {
        c->route = c->cmd.args[3];
    }

    return NGX_OK;
}


void
ngx_http_cwmp_store_arg(ngx_http_cwmp_store_cmd_t *c, ngx_str_t *s)
{
    if (c->cmd.nargs == c->max) {
        c->failed = 1;
        return;
    }

    c->cmd.args[c->cmd.nargs++] = *s;
}


void
ngx_http_cwmp_store_arg_text(ngx_http_cwmp_store_cmd_t *c, char *s)
{
    ngx_str_t  a;

    a.data = (u_char *) s;
    a.len = ngx_strlen(s);

    ngx_http_cwmp_store_arg(c, &a);
}


/* a number as a command argument */

void
ngx_http_cwmp_store_arg_num(ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n)
{
    ngx_str_t  a;

    a.data = ngx_pnalloc(c->pool, NGX_INT_T_LEN);
    if (a.data == NULL) {
        c->failed = 1;
        return;
    }

    a.len = ngx_sprintf(a.data, "%ui", n) - a.data;

    ngx_http_cwmp_store_arg(c, &a);
}


/* n, then the n strings of the list (NULL: none) */

void
ngx_http_cwmp_store_arg_list(ngx_http_cwmp_store_cmd_t *c, ngx_array_t *list)
{
    ngx_str_t   *s;
    ngx_uint_t   i, n;

    n = list ? list->nelts : 0;

    ngx_http_cwmp_store_arg_num(c, n);

    s = n ? list->elts : NULL;

    for (i = 0; i < n; i++) {
        ngx_http_cwmp_store_arg(c, &s[i]);
    }
}


/*
 * n, then each campaign's name, why it is paused and its devices in
 * progress, as this worker last read them ("", "0" until it did)
 */

void
ngx_http_cwmp_store_arg_campaigns(ngx_http_cwmp_store_cmd_t *c,
    ngx_array_t *list)
{
    ngx_str_t                       *name, none, zero;
    ngx_uint_t                       i, j, n;
    ngx_http_cwmp_store_counters_t  *k;

    n = list ? list->nelts : 0;
    name = n ? list->elts : NULL;
    k = c->st->counters ? c->st->counters->elts : NULL;

    ngx_str_set(&none, "");
    ngx_str_set(&zero, "0");

    ngx_http_cwmp_store_arg_num(c, n);

    for (i = 0; i < n; i++) {
        ngx_http_cwmp_store_arg(c, &name[i]);

        for (j = 0; k && j < c->st->counters->nelts; j++) {
            if (k[j].name.len == name[i].len
                && ngx_strncmp(k[j].name.data, name[i].data, name[i].len)
                   == 0)
            {
                break;
            }
        }

        if (k && j < c->st->counters->nelts) {
            ngx_http_cwmp_store_arg(c, &k[j].paused);
            ngx_http_cwmp_store_arg(c, k[j].in_progress.len
                                       ? &k[j].in_progress : &zero);

        } else {
            ngx_http_cwmp_store_arg(c, &none);
            ngx_http_cwmp_store_arg(c, &zero);
        }
    }
}


/* a global key's name (its prefix, for a script to complete) */

void
ngx_http_cwmp_store_arg_key(ngx_http_cwmp_store_cmd_t *c, char *name)
{
    ngx_http_cwmp_store_arg_tagged(c, name, NULL);
}


/* a key as a command's argument: its name as a script's KEYS have it */

void
ngx_http_cwmp_store_arg_tagged(ngx_http_cwmp_store_cmd_t *c, char *name,
    ngx_str_t *tag)
{
    ngx_str_t  key;

    if (ngx_http_cwmp_store_key(c->pool, &c->st->prefix, &key, tag, name)
        != NGX_OK)
    {
        c->failed = 1;
        return;
    }

    if (c->route.len == 0) {
        c->route = key;
    }

    ngx_http_cwmp_store_arg(c, &key);
}


/* the arguments the fleet's tail takes (lib/fleet.lua) */

ngx_uint_t
ngx_http_cwmp_store_fleet_nargs(ngx_http_cwmp_store_t *st)
{
    return 2 * st->fleet.index.nelts + 6;
}


/* the index names the summary and the tags fill (lib/index.lua) */

static char  *ngx_http_cwmp_store_builtin[] = {
    "serial_number", "oui", "product_class", "manufacturer",
    "software_version", "hardware_version", "data_model", "device_summary",
    "root_data_model_version", "supported_data_model", "tag", NULL
};


ngx_uint_t
ngx_http_cwmp_store_builtin_index(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_cwmp_store_builtin[i]; i++) {
        if (name->len == ngx_strlen(ngx_http_cwmp_store_builtin[i])
            && ngx_strncmp(name->data, ngx_http_cwmp_store_builtin[i],
                           name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* an index the ACS keeps: a built-in one, or a cwmp_index one */

ngx_uint_t
ngx_http_cwmp_store_indexed(ngx_http_cwmp_store_t *st, ngx_str_t *name)
{
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    if (ngx_http_cwmp_store_builtin_index(name)) {
        return 1;
    }

    kv = st->fleet.index.elts;

    for (i = 0; i < st->fleet.index.nelts; i++) {
        if (kv[i].key.len == name->len
            && ngx_strncmp(kv[i].key.data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* the event stream has events of this kind (cwmp_events) */

ngx_uint_t
ngx_http_cwmp_store_emits(ngx_http_cwmp_store_t *st, char *kind)
{
    u_char     *p, *last;
    size_t      len;

    len = ngx_strlen(kind);
    p = st->fleet.events.data;
    last = p + st->fleet.events.len;

    while (p && p + len + 2 <= last) {
        if (ngx_strncmp(p + 1, kind, len) == 0 && p[len + 1] == ',') {
            return 1;
        }

        p = ngx_strlchr(p + 1, last, ',');
    }

    return 0;
}


/*
 * The tail every device script ends its ARGV with (lib/fleet.lua): the
 * indexed parameters (path, name), their count, the status records'
 * lifetime, the event kinds, the interval and margin of "online", whether
 * SupportedDataModel is read and the indexes kept
 */

void
ngx_http_cwmp_store_arg_fleet(ngx_http_cwmp_store_cmd_t *c)
{
    ngx_uint_t                    i;
    ngx_keyval_t                 *kv;
    ngx_http_cwmp_store_fleet_t  *fleet;

    fleet = &c->st->fleet;
    kv = fleet->index.elts;

    for (i = 0; i < fleet->index.nelts; i++) {
        ngx_http_cwmp_store_arg(c, &kv[i].value);
        ngx_http_cwmp_store_arg(c, &kv[i].key);
    }

    ngx_http_cwmp_store_arg_num(c, fleet->index.nelts);
    ngx_http_cwmp_store_arg_num(c, (ngx_uint_t) fleet->status_ttl);
    ngx_http_cwmp_store_arg(c, &fleet->events);
    ngx_http_cwmp_store_arg_num(c, (ngx_uint_t) fleet->online_interval);
    ngx_http_cwmp_store_arg_num(c, (ngx_uint_t) fleet->online_margin);
    ngx_http_cwmp_store_arg_text(c, fleet->supported_data_model
                                    ? (fleet->no_indexes ? "10" : "11")
                                    : (fleet->no_indexes ? "00" : "01"));
}


/*
 * The Inform's digest (session_open.lua's ARGV[11]): 16 hex digits of the
 * MD5 of the value indexes configured (a new cwmp_index, or cwmp_index off
 * undone, has every device's next Inform stored whole, and indexed), then
 * of what the summary keeps of the Inform from one to the next and of its
 * parameters with their types, a NUL after each (XML text has none).  The
 * configuration's part is hashed once, and its state copied per Inform
 */

ngx_int_t
ngx_http_cwmp_store_digest(ngx_http_cwmp_store_t *st, ngx_pool_t *pool,
    ngx_http_cwmp_store_inform_t *inform, ngx_str_t *device,
    ngx_str_t *digest)
{
    u_char                  hash[16];
    ngx_str_t               off;
    ngx_uint_t              i;
    ngx_md5_t               md5;
    ngx_keyval_t           *kv;
    ngx_http_cwmp_msg_t    *msg;
    ngx_http_cwmp_param_t  *param;

    msg = inform->msg;

    if (!st->fleet.digest_ready) {
        ngx_md5_init(&st->fleet.digest_base);

        kv = st->fleet.index.elts;

        for (i = 0; i < st->fleet.index.nelts; i++) {
            ngx_http_cwmp_store_digest_add(&st->fleet.digest_base,
                                           &kv[i].key);
            ngx_http_cwmp_store_digest_add(&st->fleet.digest_base,
                                           &kv[i].value);
        }

        if (st->fleet.no_indexes) {
            ngx_str_set(&off, "cwmp_index off");
            ngx_http_cwmp_store_digest_add(&st->fleet.digest_base, &off);
        }

        st->fleet.digest_ready = 1;
    }

    md5 = st->fleet.digest_base;

    ngx_http_cwmp_store_digest_add(&md5, &msg->oui);
    ngx_http_cwmp_store_digest_add(&md5, &msg->product_class);
    ngx_http_cwmp_store_digest_add(&md5, &msg->serial_number);
    ngx_http_cwmp_store_digest_add(&md5, &msg->manufacturer);
    ngx_http_cwmp_store_digest_add(&md5, &inform->version);
    ngx_http_cwmp_store_digest_add(&md5,
                                 &device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION]);
    ngx_http_cwmp_store_digest_add(&md5,
                                 &device[NGX_HTTP_CWMP_DEV_HARDWARE_VERSION]);
    ngx_http_cwmp_store_digest_add(&md5,
                                   &device[NGX_HTTP_CWMP_DEV_DATA_MODEL]);

    param = msg->params.elts;

    for (i = 0; i < msg->params.nelts; i++) {
        ngx_http_cwmp_store_digest_add(&md5, &param[i].name);
        ngx_http_cwmp_store_digest_add(&md5, &param[i].value);
        ngx_http_cwmp_store_digest_add(&md5, &param[i].type);
    }

    ngx_md5_final(hash, &md5);

    digest->data = ngx_pnalloc(pool, 16);
    if (digest->data == NULL) {
        return NGX_ERROR;
    }

    digest->len = ngx_hex_dump(digest->data, hash, 8) - digest->data;

    return NGX_OK;
}


static void
ngx_http_cwmp_store_digest_add(ngx_md5_t *md5, ngx_str_t *s)
{
    if (s->len) {
        ngx_md5_update(md5, s->data, s->len);
    }

    ngx_md5_update(md5, "", 1);
}


static ngx_int_t
ngx_http_cwmp_store_key(ngx_pool_t *pool, ngx_str_t *prefix, ngx_str_t *key,
    ngx_str_t *tag, char *name)
{
    u_char      *p, *braces;
    size_t       len;
    ngx_uint_t   device;

    len = ngx_strlen(name);
    device = (len == 0 || name[0] == ':');
    braces = device ? NULL : (u_char *) ngx_strstr(name, "{}");

    key->data = ngx_pnalloc(pool, prefix->len + len
                                     + (device ? sizeof("device:{}") - 1 : 0)
                                     + ((device || braces) ? tag->len : 0));
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, prefix->data, prefix->len);

    if (device) {
        p = ngx_cpymem(p, "device:{", sizeof("device:{") - 1);
        p = ngx_cpymem(p, tag->data, tag->len);
        *p++ = '}';
        p = ngx_cpymem(p, name, len);

    } else if (braces) {
        /* "results:{}" + "7": "results:{7}" */
        p = ngx_cpymem(p, name, braces + 1 - (u_char *) name);
        p = ngx_cpymem(p, tag->data, tag->len);
        p = ngx_cpymem(p, braces + 1, len - (braces + 1 - (u_char *) name));

    } else {
        p = ngx_cpymem(p, name, len);
    }

    key->len = p - key->data;

    return NGX_OK;
}


/*
 * Commands written (of one slot: their first's route) made an op for the
 * Redis layer; NULL when one could not be written, or out of memory
 */

ngx_http_cwmp_redis_op_t *
ngx_http_cwmp_store_op(ngx_http_cwmp_store_cmd_t *c, ngx_uint_t n,
    ngx_log_t *log)
{
    ngx_uint_t                  i;
    ngx_http_cwmp_redis_op_t   *op;
    ngx_http_cwmp_redis_cmd_t   cmds[NGX_HTTP_CWMP_STORE_OPS];

    if (n > NGX_HTTP_CWMP_STORE_OPS) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cwmp: too many Redis commands for one op");
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (c[i].failed) {
            return NULL;
        }

        cmds[i] = c[i].cmd;
    }

    op = ngx_http_cwmp_redis_op_create(cmds, n, log);

    if (op && c[0].route.len) {
        op->slot = ngx_http_cwmp_redis_slot(c[0].route.data,
                                            c[0].route.len);
    }

    return op;
}
