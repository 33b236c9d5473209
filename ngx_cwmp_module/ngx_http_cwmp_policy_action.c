
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The policies' actions, evaluated: one function each, by the action's
 * type (ngx_http_cwmp_policy_actions[]).  Each adds to what the policy's
 * evaluation collects (reads, values, attributes, later tasks) or plans
 * a task of its own, and says when the policy is waiting.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_cwmp_policy_eval.h"
#include "ngx_http_cwmp_util.h"


static ngx_uint_t ngx_http_cwmp_policy_truth(ngx_str_t *s);
static ngx_int_t ngx_http_cwmp_policy_instances(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_http_cwmp_action_t *a);
static ngx_uint_t ngx_http_cwmp_policy_due(ngx_http_cwmp_eval_t *ev,
    ngx_str_t *last, time_t max_age);


/* value <path> <template> [<type>]: read first, then set when it differs */

ngx_int_t
ngx_http_cwmp_policy_value(ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_run_t *run,
    ngx_http_cwmp_action_t *a)
{
    json_t      *t;
    ngx_int_t    param;
    ngx_str_t   *values, path, want;
    ngx_uint_t   truth;

    values = ev->in->values.elts;

    path = (run->d181 && a->path181.len) ? a->path181 : a->path;
    param = (run->d181 && a->path181.len) ? a->param[1] : a->param[0];

    if ((ngx_uint_t) param >= ev->in->values.nelts
        || ngx_http_cwmp_policy_state(ev, "absent:", &path))
    {
        /* not read, or a parameter the device does not have */
        return NGX_OK;
    }

    if (ngx_http_cwmp_policy_expand(ev, a->parts, &want) != NGX_OK) {
        /* a variable not cached yet: fetched first */
        run->waiting = 1;
        return NGX_OK;
    }

    if (values[param].data == NULL) {
        return ngx_http_cwmp_policy_push(&run->reads,
                                         ngx_http_cwmp_policy_str(&path));
    }

    truth = ngx_http_cwmp_policy_truth(&want);

    if (ngx_http_cwmp_policy_same(&values[param], &want)
        || (truth != 2
            && truth == ngx_http_cwmp_policy_truth(&values[param])))
    {
        return NGX_OK;
    }

    t = a->type_name.len
        ? json_pack("[o, o, s%]", ngx_http_cwmp_policy_str(&path),
                    ngx_http_cwmp_policy_str(&want),
                    a->type_name.data, a->type_name.len)
        : json_pack("[o, o]", ngx_http_cwmp_policy_str(&path),
                    ngx_http_cwmp_policy_str(&want));

    return ngx_http_cwmp_policy_push(&run->sets, t);
}


/* refresh <path> <age>: read again when the last read is older */

ngx_int_t
ngx_http_cwmp_policy_refresh(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    json_t  *t;

    if (ngx_http_cwmp_policy_state(ev, "absent:", &a->path)) {
        return NGX_OK;
    }

    if (!ngx_http_cwmp_policy_due(ev,
             ngx_http_cwmp_policy_state(ev, "refresh:", &a->path),
             a->max_age))
    {
        return NGX_OK;
    }

    if (a->path.data[a->path.len - 1] == '.') {
        t = ngx_http_cwmp_policy_task(run->policy, "refreshObject");
        if (t == NULL) {
            return NGX_ERROR;
        }

        json_object_set_new(t, "objectName",
                            ngx_http_cwmp_policy_str(&a->path));

    } else {
        t = ngx_http_cwmp_policy_task(run->policy, "getParameterValues");
        if (t == NULL) {
            return NGX_ERROR;
        }

        json_object_set_new(t, "parameterNames",
                            json_pack("[o]",
                                      ngx_http_cwmp_policy_str(&a->path)));
    }

    return ngx_http_cwmp_policy_plan_task(ev, run, t,
                                          NGX_HTTP_CWMP_CLASS_READ,
                                          "refresh:", &a->path,
                                          json_integer(ev->now));
}


/* notification <path> <level>: one SetParameterAttributes per policy */

ngx_int_t
ngx_http_cwmp_policy_notification(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    ngx_str_t  *st;

    if (ngx_http_cwmp_policy_state(ev, "absent:", &a->path)) {
        return NGX_OK;
    }

    st = ngx_http_cwmp_policy_state(ev, "notification:", &a->path);

    if (st && (ngx_uint_t) ngx_atoi(st->data, st->len) == a->level) {
        return NGX_OK;
    }

    if (ngx_http_cwmp_policy_push(&run->attrs, json_pack("{s: o, s: i}",
            "name", ngx_http_cwmp_policy_str(&a->path),
            "notification", (int) a->level))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (run->marks == NULL) {
        run->marks = json_object();
        if (run->marks == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_cwmp_policy_mark(ev, run->marks, "notification:",
                                     &a->path, json_integer(a->level));
}


/* tag <name>, untag <name>: an operation, no task */

ngx_int_t
ngx_http_cwmp_policy_tag(ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_run_t *run,
    ngx_http_cwmp_action_t *a)
{
    if (ngx_http_cwmp_policy_has(&ev->in->tags, &a->path)
        == (a->type == NGX_HTTP_CWMP_ACT_TAG_ADD))
    {
        return NGX_OK;
    }

    json_array_append_new(ev->ops, json_pack("[s, s%]",
        a->type == NGX_HTTP_CWMP_ACT_TAG_ADD ? "tag_add" : "tag_remove",
        a->path.data, a->path.len));

    return NGX_OK;
}


/* reboot: once per policy, after its values */

ngx_int_t
ngx_http_cwmp_policy_reboot(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    json_t  *t;

    if (ngx_http_cwmp_policy_state(ev, "reboot:", &run->policy->name)) {
        return NGX_OK;
    }

    t = ngx_http_cwmp_policy_task(run->policy, "reboot");
    if (t == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_cwmp_policy_later(ev, run, t, NGX_HTTP_CWMP_CLASS_REBOOT,
                                      "reboot:", json_integer(ev->now));
}


/* connreq_credentials, acs_credentials: fresh credentials set once */

ngx_int_t
ngx_http_cwmp_policy_credentials(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    u_char      password[32];
    char       *root, *user, *pass, *kind;
    json_t     *t;
    ngx_str_t   pw, username;
    ngx_uint_t  acs;

    acs = (a->type == NGX_HTTP_CWMP_ACT_ACS_AUTH);
    kind = acs ? "acs_auth:" : "connreq:";

    if (ngx_http_cwmp_policy_state(ev, kind, &run->policy->name)) {
        return NGX_OK;
    }

    if (ngx_http_cwmp_policy_expand(ev, a->parts, &username) != NGX_OK) {
        run->waiting = 1;
        return NGX_OK;
    }

    if (ngx_http_cwmp_random_hex(password, sizeof(password), ev->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    pw.data = password;
    pw.len = sizeof(password);

    root = run->d181 ? "Device" : "InternetGatewayDevice";
    user = acs ? "Username" : "ConnectionRequestUsername";
    pass = acs ? "Password" : "ConnectionRequestPassword";

    t = ngx_http_cwmp_policy_task(run->policy, "setParameterValues");
    if (t == NULL) {
        return NGX_ERROR;
    }

    json_object_set_new(t, "parameterValues", json_pack("[[s++, o], [s++, o]]",
        root, ".ManagementServer.", user, ngx_http_cwmp_policy_str(&username),
        root, ".ManagementServer.", pass, ngx_http_cwmp_policy_str(&pw)));
    json_object_set_new(t, acs ? "acs_auth" : "connreq",
                        json_pack("{s: o, s: o}",
                            "username", ngx_http_cwmp_policy_str(&username),
                            "password", ngx_http_cwmp_policy_str(&pw)));
    json_object_set_new(t, "secret", json_true());

    return ngx_http_cwmp_policy_plan_task(ev, run, t, NGX_HTTP_CWMP_CLASS_SET,
                                          kind, &run->policy->name,
                                          json_integer(ev->now));
}


/*
 * xmpp [<n>]: an "xmppConnection" task, once (session_step.lua has it go
 * out as the SetParameterValues of XMPP.Connection.<n> with the account
 * the operator keeps in cwmp:device:{<ID>}:xmpp, ConnReqXMPPConnection,
 * and ConnReqAllowedJabberIDs the ACS's JID)
 */

ngx_int_t
ngx_http_cwmp_policy_xmpp(ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_run_t *run,
    ngx_http_cwmp_action_t *a)
{
    json_t  *t;

    if (ngx_http_cwmp_policy_state(ev, "xmpp:", &run->policy->name)) {
        return NGX_OK;
    }

    t = ngx_http_cwmp_policy_task(run->policy, "xmppConnection");
    if (t == NULL) {
        return NGX_ERROR;
    }

    json_object_set_new(t, "connection", json_integer(a->count));
    json_object_set_new(t, "allowedJabberIDs",
                        ngx_http_cwmp_policy_str(&ev->policies->acs_jid));

    return ngx_http_cwmp_policy_plan_task(ev, run, t, NGX_HTTP_CWMP_CLASS_SET,
                                          "xmpp:", &run->policy->name,
                                          json_integer(ev->now));
}


/* instances, instance: counted on a fresh copy of the object */

ngx_int_t
ngx_http_cwmp_policy_objects(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    switch (ngx_http_cwmp_policy_instances(ev, run->policy, a)) {

    case NGX_ERROR:
        return NGX_ERROR;

    case NGX_AGAIN:
        /* the object is fetched first: it is a read */
        run->pending = 1;
        run->ntasks++;
        break;

    case NGX_DONE:
        run->ntasks++;
        break;

    case NGX_BUSY:
        run->waiting = 1;
        break;

    default: /* NGX_OK: as declared */
        break;
    }

    return NGX_OK;
}


/*
 * firmware <version> <url> [<file type>]: a Download until the device
 * reports that SoftwareVersion; three attempts, an hour apart at most
 */

ngx_int_t
ngx_http_cwmp_policy_firmware(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    u_char                  *buf, *last;
    json_t                  *t;
    time_t                   at;
    ngx_int_t                attempts;
    ngx_str_t               *st, name;
    ngx_http_cwmp_policy_t  *p;

    p = run->policy;
    st = &ev->in->device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION];

    if (st->data == NULL || ngx_http_cwmp_policy_same(st, &a->version)) {
        return NGX_OK;
    }

    /* "<version> <attempts> <time>" of the last download sent */

    st = ngx_http_cwmp_policy_state(ev, "firmware:", &p->name);
    attempts = 0;
    at = 0;

    if (st && st->len > a->version.len + 1
        && ngx_strncmp(st->data, a->version.data, a->version.len) == 0
        && st->data[a->version.len] == ' ')
    {
        buf = st->data + a->version.len + 1;
        last = ngx_strlchr(buf, st->data + st->len, ' ');

        if (last) {
            attempts = ngx_atoi(buf, last - buf);
            at = ngx_atotm(last + 1, st->data + st->len - last - 1);
        }
    }

    if (attempts >= 3) {
        /* three downloads and the version is still not there */
        buf = ngx_pnalloc(ev->pool, a->version.len + 64);
        if (buf == NULL) {
            return NGX_ERROR;
        }

        last = ngx_sprintf(buf, "3 downloads and SoftwareVersion "
                           "is still not %V", &a->version);

        json_array_append_new(ev->ops, json_pack("[s, s%, {s: s, s: s%}, o]",
            "fail", p->name.data, p->name.len, "error", "firmware",
            "detail", buf, last - buf, ngx_http_cwmp_policy_rules(p)));
        run->waiting = 1;
        return NGX_OK;
    }

    if (at > 0 && at + 3600 > ev->now) {
        /* a download in progress: its Inform comes first */
        run->waiting = 1;
        return NGX_OK;
    }

    t = ngx_http_cwmp_policy_task(p, "download");
    if (t == NULL) {
        return NGX_ERROR;
    }

    json_object_set_new(t, "fileType",
                        ngx_http_cwmp_policy_str(&a->file_type));
    if (ngx_strncmp(a->url.data, "file:", 5) == 0) {
        /* a stored file: the session signs its URL for the device */
        name.data = a->url.data + 5;
        name.len = a->url.len - 5;
        json_object_set_new(t, "file", ngx_http_cwmp_policy_str(&name));

    } else {
        json_object_set_new(t, "url", ngx_http_cwmp_policy_str(&a->url));
    }

    buf = ngx_pnalloc(ev->pool, a->version.len + 2 * NGX_INT_T_LEN + 2);
    if (buf == NULL) {
        json_decref(t);
        return NGX_ERROR;
    }

    last = ngx_sprintf(buf, "%V %i %T", &a->version, attempts + 1, ev->now);

    return ngx_http_cwmp_policy_later(ev, run, t,
                                      NGX_HTTP_CWMP_CLASS_DOWNLOAD,
                                      "firmware:",
                                      json_stringn((char *) buf, last - buf));
}




/* backup <max-age>: a backupConfig when the last is older, or none */

ngx_int_t
ngx_http_cwmp_policy_backup(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a)
{
    json_t  *t;

    if (!ngx_http_cwmp_policy_due(ev,
             ngx_http_cwmp_policy_state(ev, "backup:", &run->policy->name),
             a->max_age))
    {
        return NGX_OK;
    }

    t = ngx_http_cwmp_policy_task(run->policy, "backupConfig");
    if (t == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_cwmp_policy_later(ev, run, t,
                                      NGX_HTTP_CWMP_CLASS_DOWNLOAD,
                                      "backup:", json_integer(ev->now));
}


/*
 * instances <object.> <n>, instance <object.> <key> <value> ...: counted on
 * a fresh copy of the object (a refreshObject first, and again after each
 * AddObject or DeleteObject, whose marks make the copy stale).  NGX_OK:
 * as declared; NGX_AGAIN: fetched first; NGX_DONE: tasks planned;
 * NGX_BUSY: a value it needs is not known; NGX_ERROR.
 */

static ngx_int_t
ngx_http_cwmp_policy_instances(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_http_cwmp_action_t *a)
{
    u_char                 *dot, *q;
    json_t                 *t, *pv;
    ngx_str_t              *st, leaf, want, v;
    ngx_int_t               n;
    ngx_uint_t              i, j, k, count, *nums, exists;
    ngx_array_t            *known;
    ngx_keyval_t           *kv;
    ngx_http_cwmp_value_t  *value;

    st = ngx_http_cwmp_policy_state(ev, "refresh:", &a->path);

    if (st == NULL || (st->len == 1 && st->data[0] == '0')) {
        t = ngx_http_cwmp_policy_task(p, "refreshObject");
        if (t == NULL) {
            return NGX_ERROR;
        }

        json_object_set_new(t, "objectName",
                            ngx_http_cwmp_policy_str(&a->path));

        if (ngx_http_cwmp_policy_marked(ev, t, "refresh:", &a->path,
                                        json_integer(ev->now))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_READ], t);

        return NGX_AGAIN;
    }

    /* the instance numbers the cache has, ascending, once each */

    known = (a->object < ev->in->objects.nelts)
            ? &((ngx_array_t *) ev->in->objects.elts)[a->object] : NULL;

    nums = ngx_palloc(ev->pool,
                      ((known ? known->nelts : 0) + 1) * sizeof(ngx_uint_t));
    if (nums == NULL) {
        return NGX_ERROR;
    }

    count = 0;
    exists = 0;

    if (a->type == NGX_HTTP_CWMP_ACT_INSTANCE
        && ngx_http_cwmp_policy_expand(ev, a->parts, &want) != NGX_OK)
    {
        return NGX_BUSY;
    }

    kv = known ? known->elts : NULL;

    for (i = 0; known && i < known->nelts; i++) {
        if (kv[i].key.len <= a->path.len) {
            continue;
        }

        q = kv[i].key.data + a->path.len;
        dot = ngx_strlchr(q, kv[i].key.data + kv[i].key.len, '.');
        if (dot == NULL) {
            continue;
        }

        n = ngx_atoi(q, dot - q);
        if (n == NGX_ERROR) {
            continue;
        }

        leaf.data = dot + 1;
        leaf.len = kv[i].key.data + kv[i].key.len - leaf.data;

        if (a->type == NGX_HTTP_CWMP_ACT_INSTANCE
            && ngx_http_cwmp_policy_same(&leaf, &a->key)
            && ngx_http_cwmp_policy_same(&kv[i].value, &want))
        {
            exists = 1;
        }

        for (j = 0; j < count && nums[j] < (ngx_uint_t) n; j++) {
            /* void */
        }

        if (j < count && nums[j] == (ngx_uint_t) n) {
            continue;
        }

        for (k = count; k > j; k--) {
            nums[k] = nums[k - 1];
        }

        nums[j] = n;
        count++;
    }

    if (a->type == NGX_HTTP_CWMP_ACT_INSTANCE) {
        if (exists) {
            return NGX_OK;
        }

        /* AddObject, then the key and the values on the new instance */

        pv = json_array();
        if (pv == NULL) {
            return NGX_ERROR;
        }

        json_array_append_new(pv, json_pack("[o, o]",
                                            ngx_http_cwmp_policy_str(&a->key),
                                            ngx_http_cwmp_policy_str(&want)));

        value = a->values->elts;

        for (i = 0; i < a->values->nelts; i++) {
            if (ngx_http_cwmp_policy_expand(ev, value[i].parts, &v)
                != NGX_OK)
            {
                json_decref(pv);
                return NGX_BUSY;
            }

            json_array_append_new(pv, json_pack("[o, o]",
                                      ngx_http_cwmp_policy_str(&value[i].name),
                                      ngx_http_cwmp_policy_str(&v)));
        }

        t = ngx_http_cwmp_policy_task(p, "addObject");
        if (t == NULL) {
            json_decref(pv);
            return NGX_ERROR;
        }

        json_object_set_new(t, "objectName",
                            ngx_http_cwmp_policy_str(&a->path));
        json_object_set_new(t, "parameterValues", pv);

        if (ngx_http_cwmp_policy_marked(ev, t, "refresh:", &a->path,
                                        json_integer(0))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_ADD], t);

        return NGX_DONE;
    }

    if (count == a->count) {
        return NGX_OK;
    }

    for (i = count; i < a->count; i++) {
        t = ngx_http_cwmp_policy_task(p, "addObject");
        if (t == NULL) {
            return NGX_ERROR;
        }

        json_object_set_new(t, "objectName",
                            ngx_http_cwmp_policy_str(&a->path));

        if (ngx_http_cwmp_policy_marked(ev, t, "refresh:", &a->path,
                                        json_integer(0))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_ADD], t);
    }

    /* too many: the newest go */

    for (i = count; i > a->count; i--) {
        t = ngx_http_cwmp_policy_task(p, "deleteObject");
        if (t == NULL) {
            return NGX_ERROR;
        }

        v.data = ngx_pnalloc(ev->pool, a->path.len + NGX_INT_T_LEN + 1);
        if (v.data == NULL) {
            json_decref(t);
            return NGX_ERROR;
        }

        v.len = ngx_sprintf(v.data, "%V%ui.", &a->path, nums[i - 1])
                - v.data;

        json_object_set_new(t, "objectName", ngx_http_cwmp_policy_str(&v));

        if (ngx_http_cwmp_policy_marked(ev, t, "refresh:", &a->path,
                                        json_integer(0))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_DELETE], t);
    }

    return NGX_DONE;
}




/* "true" and "1", "false" and "0" are one boolean */

static ngx_uint_t
ngx_http_cwmp_policy_truth(ngx_str_t *s)
{
    if ((s->len == 1 && s->data[0] == '1')
        || (s->len == 4 && ngx_strncasecmp(s->data, (u_char *) "true", 4)
                           == 0))
    {
        return 1;
    }

    if ((s->len == 1 && s->data[0] == '0')
        || (s->len == 5 && ngx_strncasecmp(s->data, (u_char *) "false", 5)
                           == 0))
    {
        return 0;
    }

    return 2;
}


/*
 * Whether what was done at the time "last" says (unix time; NULL: never)
 * is due again: older than max_age less a per-device jitter of up to a
 * tenth of it, so that a fleet does not come due at once
 */

static ngx_uint_t
ngx_http_cwmp_policy_due(ngx_http_cwmp_eval_t *ev, ngx_str_t *last,
    time_t max_age)
{
    time_t  at, age;

    at = last ? ngx_atotm(last->data, last->len) : 0;

    age = max_age - (time_t) (ngx_murmur_hash2(ev->device_id->data,
                                               ev->device_id->len)
                              % (max_age / 10 + 1));

    return at == NGX_ERROR || at + age <= ev->now;
}
