
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Policies, evaluated: what Redis holds of a device (its fields, the
 * cached values and objects the policies read, its tags, policy state and
 * campaigns) against what the policies declare, into the tasks that close
 * the gap, in the order the best ACSes use (reads, SetParameterValues one
 * RPC per policy, SetParameterAttributes, Download, Reboot), and the
 * operations on its tags, state and campaigns.  Each action has its
 * function, in ngx_http_cwmp_policy_action.c.  No I/O: a pool and a log.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_cwmp_policy_eval.h"
#include "ngx_http_cwmp_metrics.h"
#include "ngx_http_cwmp_task.h"


static ngx_int_t ngx_http_cwmp_policy_matches(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_uint_t partial);
static ngx_int_t ngx_http_cwmp_policy_compare(ngx_http_cwmp_match_t *m,
    ngx_str_t *value);
static ngx_http_cwmp_standing_e ngx_http_cwmp_policy_eval(
    ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_policy_t *p);
static void ngx_http_cwmp_policy_run_free(ngx_http_cwmp_run_t *run);
static ngx_int_t ngx_http_cwmp_policy_dump(ngx_pool_t *pool, json_t *json,
    ngx_str_t *out);


/* each action's evaluation, by ngx_http_cwmp_act_e */

static ngx_http_cwmp_action_pt  ngx_http_cwmp_policy_actions[] = {
    [NGX_HTTP_CWMP_ACT_VALUE] = ngx_http_cwmp_policy_value,
    [NGX_HTTP_CWMP_ACT_REFRESH] = ngx_http_cwmp_policy_refresh,
    [NGX_HTTP_CWMP_ACT_NOTIFICATION] = ngx_http_cwmp_policy_notification,
    [NGX_HTTP_CWMP_ACT_TAG_ADD] = ngx_http_cwmp_policy_tag,
    [NGX_HTTP_CWMP_ACT_TAG_REMOVE] = ngx_http_cwmp_policy_tag,
    [NGX_HTTP_CWMP_ACT_REBOOT] = ngx_http_cwmp_policy_reboot,
    [NGX_HTTP_CWMP_ACT_FIRMWARE] = ngx_http_cwmp_policy_firmware,
    [NGX_HTTP_CWMP_ACT_INSTANCES] = ngx_http_cwmp_policy_objects,
    [NGX_HTTP_CWMP_ACT_INSTANCE] = ngx_http_cwmp_policy_objects,
    [NGX_HTTP_CWMP_ACT_CONNREQ] = ngx_http_cwmp_policy_credentials,
    [NGX_HTTP_CWMP_ACT_ACS_AUTH] = ngx_http_cwmp_policy_credentials,
    [NGX_HTTP_CWMP_ACT_BACKUP] = ngx_http_cwmp_policy_backup,
    [NGX_HTTP_CWMP_ACT_XMPP] = ngx_http_cwmp_policy_xmpp
};


/*
 * At an Inform, before Redis is asked: the policies the device's own
 * fields, events, the time and its share leave in play, and the cached
 * values they read (the indexes into the wanted list).  A device sees the
 * cost of the policies written for it, not of all of them.
 */

ngx_int_t
ngx_http_cwmp_policy_candidates(ngx_pool_t *pool,
    ngx_http_cwmp_policies_t *policies, ngx_str_t *device,
    ngx_str_t *device_id, ngx_array_t *index, ngx_array_t *objects)
{
    u_char                        *seen, *seen_object;
    ngx_uint_t                     i, j, *k, *e;
    ngx_http_cwmp_eval_t           ev;
    ngx_http_cwmp_policy_t       **pp;
    ngx_http_cwmp_store_inputs_t   in;

    if (ngx_array_init(index, pool, policies->wanted.nelts + 1,
                       sizeof(ngx_uint_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    seen = ngx_pcalloc(pool, policies->wanted.nelts + 1);
    seen_object = ngx_pcalloc(pool, policies->objects.nelts + 1);

    if (seen == NULL || seen_object == NULL
        || ngx_array_init(objects, pool, policies->objects.nelts + 1,
                          sizeof(ngx_uint_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&ev, sizeof(ngx_http_cwmp_eval_t));
    ngx_memzero(&in, sizeof(ngx_http_cwmp_store_inputs_t));
    ngx_memcpy(in.device, device, sizeof(in.device));

    ev.pool = pool;
    ev.policies = policies;
    ev.in = &in;
    ev.device_id = device_id;
    ev.now = ngx_time();

    pp = policies->policies.elts;

    for (i = 0; i < policies->policies.nelts; i++) {
        if (ngx_http_cwmp_policy_matches(&ev, pp[i], 1) != NGX_OK) {
            continue;
        }

        k = pp[i]->params.elts;

        for (j = 0; j < pp[i]->params.nelts; j++) {
            if (seen[k[j]]) {
                continue;
            }

            seen[k[j]] = 1;

            e = ngx_array_push(index);
            if (e == NULL) {
                return NGX_ERROR;
            }

            *e = k[j];
        }

        k = pp[i]->objects.elts;

        for (j = 0; j < pp[i]->objects.nelts; j++) {
            if (seen_object[k[j]]) {
                continue;
            }

            seen_object[k[j]] = 1;

            e = ngx_array_push(objects);
            if (e == NULL) {
                return NGX_ERROR;
            }

            *e = k[j];
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_cwmp_policy_plan(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_cwmp_policies_t *policies, ngx_http_cwmp_store_inputs_t *in,
    ngx_str_t *device_id, ngx_str_t *plan, ngx_str_t *ops)
{
    json_t                          *all, *op, *detail;
    ngx_int_t                        rc;
    ngx_uint_t                       i, k, in_progress;
    ngx_str_t                       *fail;
    ngx_http_cwmp_eval_t             ev;
    ngx_http_cwmp_policy_t         **pp, *p;
    ngx_http_cwmp_standing_e         standing;
    ngx_http_cwmp_store_campaign_t  *c;

    ngx_memzero(&ev, sizeof(ngx_http_cwmp_eval_t));

    ev.pool = pool;
    ev.log = log;
    ev.policies = policies;
    ev.in = in;
    ev.device_id = device_id;
    ev.now = ngx_time();

    rc = NGX_ERROR;
    all = NULL;

    ev.ops = json_array();
    if (ev.ops == NULL) {
        goto done;
    }

    for (k = 0; k < NGX_HTTP_CWMP_CLASSES; k++) {
        ev.classes[k] = json_array();
        if (ev.classes[k] == NULL) {
            goto done;
        }
    }

    pp = policies->policies.elts;

    for (i = 0; i < policies->policies.nelts; i++) {
        p = pp[i];

        c = NULL;

        if (p->campaign >= 0
            && (ngx_uint_t) p->campaign < in->campaigns.nelts)
        {
            c = &((ngx_http_cwmp_store_campaign_t *)
                  in->campaigns.elts)[p->campaign];

            if (c->paused.len) {
                continue;
            }
        }

        /* a transfer the CPE reported failed: a fault, and the back-off */

        fail = ngx_http_cwmp_policy_state(&ev, "failed:", &p->name);

        if (fail) {
            detail = json_loadb((char *) fail->data, fail->len, 0, NULL);
            if (detail == NULL) {
                detail = ngx_http_cwmp_policy_str(fail);
            }

            op = json_pack("[s, s%, o, o]", "fail", p->name.data,
                           p->name.len, detail,
                           ngx_http_cwmp_policy_rules(p));
            if (op == NULL) {
                goto done;
            }

            json_array_append_new(ev.ops, op);
            continue;
        }

        if (ngx_http_cwmp_policy_matches(&ev, p, 0) != NGX_OK) {
            continue;
        }

        /* a device new to a campaign: within its limit only */

        in_progress = c && c->device.len == sizeof("in_progress") - 1
                      && ngx_strncmp(c->device.data, "in_progress",
                                     c->device.len) == 0;

        if (c && !in_progress && p->max_in_progress
            && (ngx_uint_t) c->in_progress >= p->max_in_progress)
        {
            continue;
        }

        standing = ngx_http_cwmp_policy_eval(&ev, p);

        if (standing == NGX_HTTP_CWMP_POLICY_ERROR) {
            goto done;
        }

        if (c && standing == NGX_HTTP_CWMP_POLICY_WORK && !in_progress) {
            c->in_progress++;
            json_array_append_new(ev.ops, json_pack("[s, s%]", "enter",
                                                    p->name.data,
                                                    p->name.len));

        } else if (c && standing == NGX_HTTP_CWMP_POLICY_SATISFIED
                   && in_progress)
        {
            json_array_append_new(ev.ops, json_pack("[s, s%, o]", "done",
                                  p->name.data, p->name.len,
                                  ngx_http_cwmp_policy_rules(p)));
        }
    }

    all = json_array();
    if (all == NULL) {
        goto done;
    }

    for (k = 0; k < NGX_HTTP_CWMP_CLASSES; k++) {

        /* transfers and reboots once every value is read and set */

        if (k >= NGX_HTTP_CWMP_CLASS_DOWNLOAD
            && (json_array_size(ev.classes[NGX_HTTP_CWMP_CLASS_READ])
                || json_array_size(ev.classes[NGX_HTTP_CWMP_CLASS_DELETE])
                || json_array_size(ev.classes[NGX_HTTP_CWMP_CLASS_ADD])
                || json_array_size(ev.classes[NGX_HTTP_CWMP_CLASS_SET])))
        {
            break;
        }

        if (json_array_extend(all, ev.classes[k]) != 0) {
            goto done;
        }
    }

    if (ngx_http_cwmp_policy_dump(pool, all, plan) != NGX_OK
        || ngx_http_cwmp_policy_dump(pool, ev.ops, ops) != NGX_OK)
    {
        goto done;
    }

    rc = NGX_OK;

done:

    for (k = 0; k < NGX_HTTP_CWMP_CLASSES; k++) {
        if (ev.classes[k]) {
            json_decref(ev.classes[k]);
        }
    }

    if (ev.ops) {
        json_decref(ev.ops);
    }

    if (all) {
        json_decref(all);
    }

    return rc;
}


/* partial: what Redis holds (parameters, tags) is not known yet */

static ngx_int_t
ngx_http_cwmp_policy_matches(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_uint_t partial)
{
    u_char                 *s, *e, *comma, buf[NGX_INT_T_LEN + 130];
    uint32_t                hash;
    ngx_str_t              *value, code, key;
    ngx_uint_t              i, found, minute;
    ngx_tm_t                tm;
    ngx_http_cwmp_match_t  *m;

    m = p->matches.elts;

    for (i = 0; i < p->matches.nelts; i++) {

        switch (m[i].what) {

        case NGX_HTTP_CWMP_MATCH_FIELD:
            if (ngx_http_cwmp_policy_compare(&m[i],
                                             &ev->in->device[m[i].field])
                != NGX_OK)
            {
                return NGX_DECLINED;
            }

            break;

        case NGX_HTTP_CWMP_MATCH_PARAM:
            if (partial) {
                break;
            }

            value = ev->in->values.elts;

            if (m[i].param >= ev->in->values.nelts
                || ngx_http_cwmp_policy_compare(&m[i], &value[m[i].param])
                   != NGX_OK)
            {
                return NGX_DECLINED;
            }

            break;

        case NGX_HTTP_CWMP_MATCH_EVENT:
            found = 0;
            s = ev->in->device[NGX_HTTP_CWMP_DEV_LAST_EVENTS].data;
            e = s + ev->in->device[NGX_HTTP_CWMP_DEV_LAST_EVENTS].len;

            while (s && s < e) {
                comma = ngx_strlchr(s, e, ',');
                if (comma == NULL) {
                    comma = e;
                }

                code.data = s;
                code.len = comma - s;

                if (ngx_http_cwmp_policy_same(&code, &m[i].value)) {
                    found = 1;
                    break;
                }

                s = comma + 1;
            }

            if (found == m[i].negate) {
                return NGX_DECLINED;
            }

            break;

        case NGX_HTTP_CWMP_MATCH_TAG:
            if (partial) {
                break;
            }

            if (ngx_http_cwmp_policy_has(&ev->in->tags, &m[i].value)
                == m[i].negate)
            {
                return NGX_DECLINED;
            }

            break;

        case NGX_HTTP_CWMP_MATCH_WINDOW:
            ngx_gmtime(ev->now, &tm);
            minute = tm.ngx_tm_hour * 60 + tm.ngx_tm_min;

            if (m[i].from < m[i].to
                ? (minute < m[i].from || minute >= m[i].to)
                : (minute < m[i].from && minute >= m[i].to))
            {
                return NGX_DECLINED;
            }

            break;

        case NGX_HTTP_CWMP_MATCH_PERCENT:
            /* stable per policy and device: raising it keeps the first */
            key.data = buf;
            key.len = ngx_snprintf(buf, sizeof(buf), "%V %V", &p->name,
                                   ev->device_id)
                      - buf;
            hash = ngx_murmur_hash2(key.data, key.len);

            if (hash % 100 >= m[i].percent) {
                return NGX_DECLINED;
            }

            break;
        }
    }

    return NGX_OK;
}


/* a value absent from the cache matches no "=" and no "~", and no "!=" */

static ngx_int_t
ngx_http_cwmp_policy_compare(ngx_http_cwmp_match_t *m, ngx_str_t *value)
{
    ngx_int_t  rc;

    if (value->data == NULL) {
        return NGX_DECLINED;
    }

    switch (m->op) {

    case NGX_HTTP_CWMP_OP_EQ:
        return ngx_http_cwmp_policy_same(value, &m->value)
               ? NGX_OK : NGX_DECLINED;

    case NGX_HTTP_CWMP_OP_NE:
        return ngx_http_cwmp_policy_same(value, &m->value)
               ? NGX_DECLINED : NGX_OK;

    default:
        rc = ngx_regex_exec(m->regex, value, NULL, 0);

        if (rc < NGX_REGEX_NO_MATCHED) {
            return NGX_DECLINED;
        }

        return ((rc >= 0) == (m->op == NGX_HTTP_CWMP_OP_RE))
               ? NGX_OK : NGX_DECLINED;
    }
}



/*
 * One policy on one device: its tasks (appended to the session's classes)
 * and how it stands.  Each action is a function; they share what one RPC
 * per policy collects (the reads, the values, the attributes).
 */

static ngx_http_cwmp_standing_e
ngx_http_cwmp_policy_eval(ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_policy_t *p)
{
    json_t                  *t;
    time_t                   at;
    ngx_str_t               *st, *root;
    ngx_uint_t               i;
    ngx_http_cwmp_run_t      run;
    ngx_http_cwmp_action_t  *a;

    /* a fault on this device: nothing until its back-off is over */

    st = ngx_http_cwmp_policy_state(ev, "fault:", &p->name);

    if (st) {
        t = json_loadb((char *) st->data, st->len, 0, NULL);
        at = (t && json_is_integer(json_object_get(t, "retry_at")))
             ? (time_t) json_integer_value(json_object_get(t, "retry_at"))
             : 0;

        if (t) {
            json_decref(t);
        }

        if (at > ev->now) {
            return NGX_HTTP_CWMP_POLICY_WAITING;
        }
    }

    /* a reboot or a transfer of its in flight: nothing until it is done */

    if (ngx_http_cwmp_policy_state(ev, "waiting:", &p->name)) {
        return NGX_HTTP_CWMP_POLICY_WAITING;
    }

    /* made when first needed: most policies on most devices want nothing */

    ngx_memzero(&run, sizeof(ngx_http_cwmp_run_t));
    run.policy = p;

    root = &ev->in->device[NGX_HTTP_CWMP_DEV_DATA_MODEL];
    run.d181 = (root->len == sizeof("Device") - 1
                && ngx_strncmp(root->data, "Device", root->len) == 0);

    a = p->actions.elts;

    for (i = 0; i < p->actions.nelts; i++) {
        if (ngx_http_cwmp_policy_actions[a[i].type](ev, &run, &a[i])
            != NGX_OK)
        {
            goto failed;
        }
    }

    /* one GetParameterValues, one SetParameterValues, one attributes */

    if (json_array_size(run.reads)) {
        t = ngx_http_cwmp_policy_task(p, "getParameterValues");
        if (t == NULL) {
            goto failed;
        }

        json_object_set(t, "parameterNames", run.reads);
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_READ], t);
        run.ntasks++;

    } else if (json_array_size(run.sets)) {
        /* values are set once all are known: one RPC */
        t = ngx_http_cwmp_policy_task(p, "setParameterValues");
        if (t == NULL) {
            goto failed;
        }

        json_object_set(t, "parameterValues", run.sets);
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_SET], t);
        run.ntasks++;
    }

    /*
     * Attributes, downloads and reboots wait for the values this policy
     * still has to read and set: a reboot must not come before them.
     */

    if (json_array_size(run.reads) || run.pending) {
        json_array_clear(run.attrs);
        json_array_clear(run.later);
    }

    for (i = 0; i < json_array_size(run.later); i++) {
        t = json_array_get(run.later, i);
        json_array_append(ev->classes[json_integer_value(
                                          json_array_get(t, 0))],
                          json_array_get(t, 1));
        run.ntasks++;
    }

    if (json_array_size(run.attrs)) {
        t = ngx_http_cwmp_policy_task(p, "setParameterAttributes");
        if (t == NULL) {
            goto failed;
        }

        json_object_set(t, "parameterAttributes", run.attrs);
        json_object_set(t, "marks", run.marks);
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_ATTRIBUTES],
                              t);
        run.ntasks++;
    }

    ngx_http_cwmp_policy_run_free(&run);

    if (run.ntasks) {
        ngx_http_cwmp_metric_policy_tasks(p->index, run.ntasks);
        return NGX_HTTP_CWMP_POLICY_WORK;
    }

    return run.waiting ? NGX_HTTP_CWMP_POLICY_WAITING
                       : NGX_HTTP_CWMP_POLICY_SATISFIED;

failed:

    ngx_http_cwmp_policy_run_free(&run);

    return NGX_HTTP_CWMP_POLICY_ERROR;
}


static void
ngx_http_cwmp_policy_run_free(ngx_http_cwmp_run_t *run)
{
    json_t      **j[5];
    ngx_uint_t    i;

    j[0] = &run->reads;
    j[1] = &run->sets;
    j[2] = &run->attrs;
    j[3] = &run->marks;
    j[4] = &run->later;

    for (i = 0; i < 5; i++) {
        if (*j[i]) {
            json_decref(*j[i]);
            *j[i] = NULL;
        }
    }
}


/*
 * A task of the policy's, marked with {"<prefix><name>": value} (what the
 * policy state becomes when it succeeds), into its class; t and value are
 * stolen
 */

ngx_int_t
ngx_http_cwmp_policy_plan_task(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, json_t *t, ngx_http_cwmp_class_e class,
    const char *prefix, ngx_str_t *name, json_t *value)
{
    if (ngx_http_cwmp_policy_marked(ev, t, prefix, name, value) != NGX_OK) {
        return NGX_ERROR;
    }

    json_array_append_new(ev->classes[class], t);
    run->ntasks++;

    return NGX_OK;
}


/* a transfer or a reboot, marked with the policy's name: after its values */

ngx_int_t
ngx_http_cwmp_policy_later(ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_run_t *run,
    json_t *t, ngx_http_cwmp_class_e class, const char *prefix,
    json_t *value)
{
    if (ngx_http_cwmp_policy_marked(ev, t, prefix, &run->policy->name, value)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_cwmp_policy_push(&run->later,
                                     json_pack("[i, o]", class, t));
}


/* t's marks: {"<prefix><name>": value}; value is stolen, t too on error */

ngx_int_t
ngx_http_cwmp_policy_marked(ngx_http_cwmp_eval_t *ev, json_t *t,
    const char *prefix, ngx_str_t *name, json_t *value)
{
    json_t  *marks;

    marks = json_object();

    if (marks == NULL
        || ngx_http_cwmp_policy_mark(ev, marks, prefix, name, value)
           != NGX_OK)
    {
        if (marks) {
            json_decref(marks);
        }

        json_decref(t);
        return NGX_ERROR;
    }

    json_object_set_new(t, "marks", marks);

    return NGX_OK;
}


/* marks["<prefix><name>"] = value; value is stolen */

ngx_int_t
ngx_http_cwmp_policy_mark(ngx_http_cwmp_eval_t *ev, json_t *marks,
    const char *prefix, ngx_str_t *name, json_t *value)
{
    u_char  *key, *last;
    size_t   n;

    n = ngx_strlen(prefix);

    key = ngx_pnalloc(ev->pool, n + name->len);

    if (key == NULL || value == NULL) {
        if (value) {
            json_decref(value);
        }

        return NGX_ERROR;
    }

    last = ngx_cpymem(key, prefix, n);
    last = ngx_cpymem(last, name->data, name->len);

    return json_object_setn_new(marks, (char *) key, last - key, value) == 0
           ? NGX_OK : NGX_ERROR;
}


/* appends, making the list first when needed; the item is stolen */

ngx_int_t
ngx_http_cwmp_policy_push(json_t **list, json_t *item)
{
    if (item == NULL) {
        return NGX_ERROR;
    }

    if (*list == NULL) {
        *list = json_array();
        if (*list == NULL) {
            json_decref(item);
            return NGX_ERROR;
        }
    }

    return json_array_append_new(*list, item) == 0 ? NGX_OK : NGX_ERROR;
}


/* {"id": "policy:<name>", "policy": "<name>", "name": ..., "rules": ...} */

json_t *
ngx_http_cwmp_policy_task(ngx_http_cwmp_policy_t *p, const char *name)
{
    u_char  id[sizeof("policy:") + 64];
    json_t  *t;

    ngx_sprintf(id, "policy:%V%Z", &p->name);

    t = json_pack("{s: s, s: s%, s: s}", "id", id, "policy", p->name.data,
                  p->name.len, "name", name);

    if (t && p->campaign >= 0) {
        json_object_set_new(t, "rules", ngx_http_cwmp_policy_rules(p));
    }

    return t;
}


/* a campaign's stop rules: [stop_after, ratio, of], or null */

json_t *
ngx_http_cwmp_policy_rules(ngx_http_cwmp_policy_t *p)
{
    if (p->campaign < 0) {
        return json_null();
    }

    return json_pack("[i, s%, i]", (int) p->stop_after,
                     p->stop_ratio.len ? (char *) p->stop_ratio.data : "2",
                     p->stop_ratio.len ? p->stop_ratio.len : 1,
                     (int) p->stop_of);
}


/* a value template with the device's values in: NGX_DECLINED when a
 * parameter it names is not cached */

ngx_int_t
ngx_http_cwmp_policy_expand(ngx_http_cwmp_eval_t *ev, ngx_array_t *parts,
    ngx_str_t *out)
{
    u_char                *p;
    size_t                 len;
    ngx_str_t             *s, *values;
    ngx_uint_t             i, pass;
    ngx_http_cwmp_part_t  *part;

    part = parts->elts;
    values = ev->in->values.elts;
    len = 0;
    p = NULL;

    for (pass = 0; pass < 2; pass++) {

        for (i = 0; i < parts->nelts; i++) {

            if (part[i].device_id) {
                s = ev->device_id;

            } else if (part[i].field >= 0) {
                s = &ev->in->device[part[i].field];

            } else if (part[i].param >= 0) {
                if ((ngx_uint_t) part[i].param >= ev->in->values.nelts
                    || values[part[i].param].data == NULL)
                {
                    return NGX_DECLINED;
                }

                s = &values[part[i].param];

            } else {
                s = &part[i].text;
            }

            if (pass == 0) {
                len += s->len;

            } else {
                p = ngx_cpymem(p, s->data, s->len);
            }
        }

        if (pass == 0) {
            out->data = ngx_pnalloc(ev->pool, len + 1);
            if (out->data == NULL) {
                return NGX_ERROR;
            }

            out->len = len;
            p = out->data;
        }
    }

    return NGX_OK;
}


/* the policy state field "<prefix><name>", or NULL */

ngx_str_t *
ngx_http_cwmp_policy_state(ngx_http_cwmp_eval_t *ev, const char *prefix,
    ngx_str_t *name)
{
    size_t         n;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    n = ngx_strlen(prefix);
    kv = ev->in->state.elts;

    for (i = 0; i < ev->in->state.nelts; i++) {
        if (kv[i].key.len == n + name->len
            && ngx_strncmp(kv[i].key.data, prefix, n) == 0
            && ngx_strncmp(kv[i].key.data + n, name->data, name->len) == 0)
        {
            return &kv[i].value;
        }
    }

    return NULL;
}


ngx_uint_t
ngx_http_cwmp_policy_has(ngx_array_t *list, ngx_str_t *s)
{
    ngx_str_t   *e;
    ngx_uint_t   i;

    e = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (ngx_http_cwmp_policy_same(&e[i], s)) {
            return 1;
        }
    }

    return 0;
}


json_t *
ngx_http_cwmp_policy_str(ngx_str_t *s)
{
    return json_stringn(s->len ? (char *) s->data : "", s->len);
}


static ngx_int_t
ngx_http_cwmp_policy_dump(ngx_pool_t *pool, json_t *json, ngx_str_t *out)
{
    if (json_is_array(json) && json_array_size(json) == 0) {
        /* the common answer, without the serializer */
        ngx_str_set(out, "[]");
        return NGX_OK;
    }

    /* the caller keeps its reference */

    return ngx_http_cwmp_task_json(pool, json_incref(json), out);
}
