
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Policies: desired state, declared in nginx's configuration.
 *
 *     cwmp_policy wifi-hg100 {
 *         match product_class = HG-100;
 *         match !tag lab;
 *         value InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID
 *               "home-$serial_number";
 *     }
 *
 * Everything is compiled here at configuration time (regexes through
 * ngx_regex, times, value templates, the cached parameters each policy
 * reads); an evaluation compares what Redis holds of a device with what
 * the policies declare and writes the tasks that close the gap, in the
 * order the best ACSes use: reads, SetParameterValues (one RPC per
 * policy), SetParameterAttributes, Download, Reboot.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_policy.h"
#include "ngx_http_cwmp_file_access.h"


typedef struct {
    ngx_http_cwmp_policies_t    *policies;
    ngx_http_cwmp_policy_t      *policy;
} ngx_http_cwmp_policy_conf_ctx_t;


static char *ngx_http_cwmp_policy_line(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_http_cwmp_policy_match(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx);
static char *ngx_http_cwmp_policy_action(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx);
static ngx_int_t ngx_http_cwmp_policy_window(ngx_str_t *s,
    ngx_http_cwmp_match_t *m);
static ngx_int_t ngx_http_cwmp_policy_want(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx, ngx_str_t *path);
static ngx_int_t ngx_http_cwmp_policy_object(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx, ngx_str_t *path);
static ngx_array_t *ngx_http_cwmp_policy_template(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx, ngx_str_t *value);
static ngx_int_t ngx_http_cwmp_policy_field(ngx_str_t *name);
static ngx_uint_t ngx_http_cwmp_policy_number(ngx_conf_t *cf, ngx_str_t *s,
    ngx_uint_t max, ngx_uint_t *n);


/* configuration ------------------------------------------------------- */

char *
ngx_http_cwmp_policy_block(ngx_conf_t *cf, ngx_http_cwmp_policies_t *policies)
{
    char                             *rv;
    ngx_str_t                        *value, *name;
    ngx_uint_t                        i;
    ngx_conf_t                        save;
    ngx_http_cwmp_policy_t           *p, **pp;
    ngx_http_cwmp_policy_conf_ctx_t   ctx;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (!(isalnum(value[1].data[i]) || value[1].data[i] == '-'
              || value[1].data[i] == '_' || value[1].data[i] == '.'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid policy name \"%V\": letters, digits, "
                               "\"-\", \"_\" and \".\" only", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0 || value[1].len > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid policy name \"%V\": 1 to 64 characters",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    pp = policies->policies.elts;

    for (i = 0; i < policies->policies.nelts; i++) {
        if (pp[i]->name.len == value[1].len
            && ngx_strncmp(pp[i]->name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate policy \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    p = ngx_pcalloc(cf->pool, sizeof(ngx_http_cwmp_policy_t));
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    p->name = value[1];
    p->campaign = -1;

    if (ngx_array_init(&p->matches, cf->pool, 4,
                       sizeof(ngx_http_cwmp_match_t)) != NGX_OK
        || ngx_array_init(&p->actions, cf->pool, 4,
                          sizeof(ngx_http_cwmp_action_t)) != NGX_OK
        || ngx_array_init(&p->params, cf->pool, 4, sizeof(ngx_uint_t))
           != NGX_OK
        || ngx_array_init(&p->objects, cf->pool, 1, sizeof(ngx_uint_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    pp = ngx_array_push(&policies->policies);
    if (pp == NULL) {
        return NGX_CONF_ERROR;
    }

    *pp = p;
    p->index = policies->policies.nelts - 1;

    ctx.policies = policies;
    ctx.policy = p;

    save = *cf;
    cf->handler = ngx_http_cwmp_policy_line;
    cf->handler_conf = (void *) &ctx;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (p->actions.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "policy \"%V\" has no action", &p->name);
        return NGX_CONF_ERROR;
    }

    /* rollout limits make it a campaign, with counters in Redis */

    if (p->max_in_progress || p->stop_after || p->stop_of) {
        name = ngx_array_push(&policies->campaigns);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        *name = p->name;
        p->campaign = policies->campaigns.nelts - 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_cwmp_policy_line(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_http_cwmp_policy_conf_ctx_t *ctx = conf;

    ngx_str_t               *value;
    ngx_uint_t               n;
    ngx_http_cwmp_policy_t  *p;

    value = cf->args->elts;
    p = ctx->policy;

    if (ngx_strcmp(value[0].data, "match") == 0) {
        return ngx_http_cwmp_policy_match(cf, ctx);
    }

    if (ngx_strcmp(value[0].data, "max_in_progress") == 0
        && cf->args->nelts == 2)
    {
        return ngx_http_cwmp_policy_number(cf, &value[1], 10000000,
                                           &p->max_in_progress)
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[0].data, "stop_after_failures") == 0
        && cf->args->nelts == 2)
    {
        return ngx_http_cwmp_policy_number(cf, &value[1], 10000000,
                                           &p->stop_after)
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[0].data, "stop_failure_ratio") == 0
        && cf->args->nelts == 3)
    {
        /* "0.2 50": paused when 20% of the last 50 devices failed */

        n = ngx_atofp(value[1].data, value[1].len, 3);

        if (n == (ngx_uint_t) NGX_ERROR || n == 0 || n > 1000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid ratio \"%V\": from 0.001 to 1",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        p->stop_ratio = value[1];

        return ngx_http_cwmp_policy_number(cf, &value[2], 100000,
                                           &p->stop_of)
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    return ngx_http_cwmp_policy_action(cf, ctx);
}


/*
 * match <field> =|!=|~|!~ <value>;   oui, product_class, serial_number,
 *                                    manufacturer, software_version,
 *                                    hardware_version, data_model
 * match param <path> =|!=|~|!~ <value>;
 * match [!]event <code>;   match [!]tag <name>;
 * match window HH:MM-HH:MM;          UTC, may wrap midnight
 * match percent <0-100>;             a stable share of the devices
 */

static char *
ngx_http_cwmp_policy_match(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx)
{
    u_char                  errstr[NGX_MAX_CONF_ERRSTR];
    ngx_str_t              *value, *op;
    ngx_int_t               field;
    ngx_uint_t              nargs;
    ngx_regex_compile_t     rc;
    ngx_http_cwmp_match_t  *m;

    value = cf->args->elts;
    nargs = cf->args->nelts;

    m = ngx_array_push(&ctx->policy->matches);
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(m, sizeof(ngx_http_cwmp_match_t));

    if (nargs == 3) {
        m->negate = (value[1].data[0] == '!');

        if (ngx_strcmp(value[1].data + m->negate, "event") == 0) {
            m->what = NGX_HTTP_CWMP_MATCH_EVENT;
            m->value = value[2];
            return NGX_CONF_OK;
        }

        if (ngx_strcmp(value[1].data + m->negate, "tag") == 0) {
            m->what = NGX_HTTP_CWMP_MATCH_TAG;
            m->value = value[2];
            ctx->policies->tags = 1;
            return NGX_CONF_OK;
        }

        if (m->negate) {
            goto invalid;
        }

        if (ngx_strcmp(value[1].data, "window") == 0) {
            m->what = NGX_HTTP_CWMP_MATCH_WINDOW;

            if (ngx_http_cwmp_policy_window(&value[2], m) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid window \"%V\", "
                                   "HH:MM-HH:MM (UTC) expected", &value[2]);
                return NGX_CONF_ERROR;
            }

            return NGX_CONF_OK;
        }

        if (ngx_strcmp(value[1].data, "percent") == 0) {
            m->what = NGX_HTTP_CWMP_MATCH_PERCENT;

            return ngx_http_cwmp_policy_number(cf, &value[2], 100,
                                               &m->percent)
                   ? NGX_CONF_OK : NGX_CONF_ERROR;
        }

        goto invalid;
    }

    if (nargs == 4) {
        field = ngx_http_cwmp_policy_field(&value[1]);
        if (field == NGX_ERROR) {
            goto invalid;
        }

        m->what = NGX_HTTP_CWMP_MATCH_FIELD;
        m->field = field;
        op = &value[2];
        m->value = value[3];

    } else if (nargs == 5 && ngx_strcmp(value[1].data, "param") == 0) {
        m->what = NGX_HTTP_CWMP_MATCH_PARAM;
        field = ngx_http_cwmp_policy_want(cf, ctx, &value[2]);
        if (field == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        m->param = field;
        op = &value[3];
        m->value = value[4];

    } else {
        goto invalid;
    }

    if (ngx_strcmp(op->data, "=") == 0) {
        m->op = NGX_HTTP_CWMP_OP_EQ;

    } else if (ngx_strcmp(op->data, "!=") == 0) {
        m->op = NGX_HTTP_CWMP_OP_NE;

    } else if (ngx_strcmp(op->data, "~") == 0) {
        m->op = NGX_HTTP_CWMP_OP_RE;

    } else if (ngx_strcmp(op->data, "!~") == 0) {
        m->op = NGX_HTTP_CWMP_OP_NRE;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid operator \"%V\": =, !=, ~ or !~", op);
        return NGX_CONF_ERROR;
    }

    if (m->op == NGX_HTTP_CWMP_OP_RE || m->op == NGX_HTTP_CWMP_OP_NRE) {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern = m->value;
        rc.pool = cf->pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V", &rc.err);
            return NGX_CONF_ERROR;
        }

        m->regex = rc.regex;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"match\": <field> <op> <value>, param <path> "
                       "<op> <value>, [!]event <code>, [!]tag <name>, window "
                       "HH:MM-HH:MM or percent <n>");
    return NGX_CONF_ERROR;
}


/*
 * value <path> <value> [<type>];     $serial_number, $oui, ... ${<path>}
 * refresh <path> <max-age>;
 * backup <max-age>;
 * notification <path> <0-6>;
 * tag add|remove <name>;
 * reboot;
 * periodic_inform <seconds>;
 * firmware <version> <url> [<file type>];
 * instances <object.> <n>;
 * instance <object.> <key> <value> [<name> <value>]...;
 * connreq_credentials [<username>];
 * acs_credentials [<username>];
 * xmpp [<connection>];
 */

static char *
ngx_http_cwmp_policy_action(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx)
{
    u_char                  *buf;
    ngx_str_t               *value, s, name;
    ngx_int_t                i;
    ngx_uint_t               nargs, n;
    ngx_http_cwmp_value_t   *v;
    ngx_http_cwmp_action_t  *a;

    value = cf->args->elts;
    nargs = cf->args->nelts;

    a = ngx_array_push(&ctx->policy->actions);
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(a, sizeof(ngx_http_cwmp_action_t));
    a->param[0] = -1;
    a->param[1] = -1;

    if (ngx_strcmp(value[0].data, "value") == 0
        && (nargs == 3 || nargs == 4))
    {
        a->type = NGX_HTTP_CWMP_ACT_VALUE;
        a->path = value[1];
        a->param[0] = ngx_http_cwmp_policy_want(cf, ctx, &value[1]);
        a->parts = ngx_http_cwmp_policy_template(cf, ctx, &value[2]);

        if (a->param[0] == NGX_ERROR || a->parts == NULL) {
            return NGX_CONF_ERROR;
        }

        if (nargs == 4) {
            if (ngx_strncmp(value[3].data, "xsd:", 4) == 0) {
                a->type_name = value[3];

            } else {
                buf = ngx_pnalloc(cf->pool, value[3].len + 4);
                if (buf == NULL) {
                    return NGX_CONF_ERROR;
                }

                a->type_name.data = buf;
                a->type_name.len = ngx_sprintf(buf, "xsd:%V", &value[3])
                                   - buf;
            }
        }

        return NGX_CONF_OK;
    }

    if ((ngx_strcmp(value[0].data, "refresh") == 0 && nargs == 3)
        || (ngx_strcmp(value[0].data, "backup") == 0 && nargs == 2))
    {
        if (nargs == 3) {
            a->type = NGX_HTTP_CWMP_ACT_REFRESH;
            a->path = value[1];

        } else {
            /* a configuration backup when the last is older (uploads) */
            a->type = NGX_HTTP_CWMP_ACT_BACKUP;
        }

        a->max_age = ngx_parse_time(&value[nargs - 1], 1);

        if (a->max_age == (time_t) NGX_ERROR || a->max_age < 60) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max-age \"%V\": at least 60s",
                               &value[nargs - 1]);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "notification") == 0 && nargs == 3) {
        a->type = NGX_HTTP_CWMP_ACT_NOTIFICATION;
        a->path = value[1];

        return ngx_http_cwmp_policy_number(cf, &value[2], 6, &a->level)
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[0].data, "tag") == 0 && nargs == 3) {
        if (ngx_strcmp(value[1].data, "add") == 0) {
            a->type = NGX_HTTP_CWMP_ACT_TAG_ADD;

        } else if (ngx_strcmp(value[1].data, "remove") == 0) {
            a->type = NGX_HTTP_CWMP_ACT_TAG_REMOVE;

        } else {
            goto invalid;
        }

        a->path = value[2];
        ctx->policies->tags = 1;
        return NGX_CONF_OK;
    }

    if ((ngx_strcmp(value[0].data, "connreq_credentials") == 0
         || ngx_strcmp(value[0].data, "acs_credentials") == 0)
        && nargs <= 2)
    {
        /* a random password per device, set on it and kept in Redis */

        a->type = (value[0].data[0] == 'c') ? NGX_HTTP_CWMP_ACT_CONNREQ
                                            : NGX_HTTP_CWMP_ACT_ACS_AUTH;
        ngx_str_set(&s, "$device_id");

        a->parts = ngx_http_cwmp_policy_template(cf, ctx,
                                                 nargs == 2 ? &value[1] : &s);
        return a->parts ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[0].data, "xmpp") == 0 && nargs <= 2) {
        /* XMPP.Connection.<n> with the device's XMPP account (the
         * operator's, in Redis), connection requests over it */

        a->type = NGX_HTTP_CWMP_ACT_XMPP;
        a->count = 1;
        ctx->policies->xmpp = 1;

        if (nargs == 2) {
            i = ngx_atoi(value[1].data, value[1].len);

            if (i < 1 || i > 64) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid XMPP.Connection instance "
                                   "\"%V\": 1 to 64", &value[1]);
                return NGX_CONF_ERROR;
            }

            a->count = (ngx_uint_t) i;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "reboot") == 0 && nargs == 1) {
        a->type = NGX_HTTP_CWMP_ACT_REBOOT;
        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "firmware") == 0
        && (nargs == 3 || nargs == 4))
    {
        a->type = NGX_HTTP_CWMP_ACT_FIRMWARE;
        a->version = value[1];
        a->url = value[2];
        ngx_str_set(&a->file_type, "1 Firmware Upgrade Image");

        if (nargs == 4) {
            a->file_type = value[3];
        }

        /* a URL, or "file:<name>": a file of the ACS's store */

        name.data = a->url.data + 5;
        name.len = a->url.len > 5 ? a->url.len - 5 : 0;

        if (ngx_strncmp(a->url.data, "http://", 7) != 0
            && ngx_strncmp(a->url.data, "https://", 8) != 0
            && (ngx_strncmp(a->url.data, "file:", 5) != 0
                || ngx_http_cwmp_file_name_valid(&name) != NGX_OK))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid firmware URL \"%V\": http://, "
                               "https:// or file:<a stored file's name> "
                               "expected", &a->url);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if ((ngx_strcmp(value[0].data, "instances") == 0 && nargs == 3)
        || (ngx_strcmp(value[0].data, "instance") == 0 && nargs >= 4
            && nargs % 2 == 0))
    {
        /* instances <object.> <n>;  instance <object.> <key> <value> ... */

        if (value[1].len < 2 || value[1].data[value[1].len - 1] != '.'
            || value[1].len > 256
            || ngx_strlchr(value[1].data, value[1].data + value[1].len, '*'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid object name \"%V\": a path ending "
                               "in \".\" expected", &value[1]);
            return NGX_CONF_ERROR;
        }

        a->path = value[1];
        i = ngx_http_cwmp_policy_object(cf, ctx, &value[1]);
        if (i == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        a->object = i;

        if (value[0].len == sizeof("instances") - 1) {
            a->type = NGX_HTTP_CWMP_ACT_INSTANCES;

            return ngx_http_cwmp_policy_number(cf, &value[2], 1000,
                                               &a->count)
                   ? NGX_CONF_OK : NGX_CONF_ERROR;
        }

        a->type = NGX_HTTP_CWMP_ACT_INSTANCE;
        a->key = value[2];
        a->parts = ngx_http_cwmp_policy_template(cf, ctx, &value[3]);
        a->values = ngx_array_create(cf->pool, 2,
                                     sizeof(ngx_http_cwmp_value_t));

        if (a->parts == NULL || a->values == NULL) {
            return NGX_CONF_ERROR;
        }

        for (n = 4; n < nargs; n += 2) {
            v = ngx_array_push(a->values);
            if (v == NULL) {
                return NGX_CONF_ERROR;
            }

            v->name = value[n];
            v->parts = ngx_http_cwmp_policy_template(cf, ctx, &value[n + 1]);
            if (v->parts == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        return NGX_CONF_OK;
    }

    if (ngx_strcmp(value[0].data, "periodic_inform") == 0 && nargs == 2) {

        if (!ngx_http_cwmp_policy_number(cf, &value[1], 31536000, &n)
            || n == 0)
        {
            return NGX_CONF_ERROR;
        }

        /* two values, on whichever root the device's data model has */

        for (i = 0; i < 2; i++) {
            if (i == 1) {
                a = ngx_array_push(&ctx->policy->actions);
                if (a == NULL) {
                    return NGX_CONF_ERROR;
                }

                ngx_memzero(a, sizeof(ngx_http_cwmp_action_t));
            }

            a->type = NGX_HTTP_CWMP_ACT_VALUE;

            if (i == 0) {
                ngx_str_set(&a->path, "InternetGatewayDevice.ManagementServer"
                                      ".PeriodicInformInterval");
                ngx_str_set(&a->path181,
                            "Device.ManagementServer.PeriodicInformInterval");
                ngx_str_set(&a->type_name, "xsd:unsignedInt");
                s = value[1];

            } else {
                ngx_str_set(&a->path, "InternetGatewayDevice.ManagementServer"
                                      ".PeriodicInformEnable");
                ngx_str_set(&a->path181,
                            "Device.ManagementServer.PeriodicInformEnable");
                ngx_str_set(&a->type_name, "xsd:boolean");
                ngx_str_set(&s, "true");
            }

            a->param[0] = ngx_http_cwmp_policy_want(cf, ctx,
                                                    &a->path);
            a->param[1] = ngx_http_cwmp_policy_want(cf, ctx,
                                                    &a->path181);
            a->parts = ngx_http_cwmp_policy_template(cf, ctx, &s);

            if (a->param[0] == NGX_ERROR || a->param[1] == NGX_ERROR
                || a->parts == NULL)
            {
                return NGX_CONF_ERROR;
            }
        }

        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown or invalid \"%V\" in a policy", &value[0]);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_cwmp_policy_window(ngx_str_t *s, ngx_http_cwmp_match_t *m)
{
    u_char  *p;

    /* HH:MM-HH:MM */

    p = s->data;

    if (s->len != 11 || p[2] != ':' || p[5] != '-' || p[8] != ':') {
        return NGX_ERROR;
    }

    m->from = (ngx_atoi(p, 2) * 60) + ngx_atoi(p + 3, 2);
    m->to = (ngx_atoi(p + 6, 2) * 60) + ngx_atoi(p + 9, 2);

    if (ngx_atoi(p, 2) > 24 || ngx_atoi(p + 3, 2) > 59
        || ngx_atoi(p + 6, 2) > 24 || ngx_atoi(p + 9, 2) > 59
        || ngx_atoi(p, 2) == NGX_ERROR || ngx_atoi(p + 3, 2) == NGX_ERROR
        || ngx_atoi(p + 6, 2) == NGX_ERROR || ngx_atoi(p + 9, 2) == NGX_ERROR
        || m->from > 1440 || m->to > 1440 || m->from == m->to)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the index of a cached parameter the policies read, added once */

static ngx_int_t
ngx_http_cwmp_policy_want(ngx_conf_t *cf, ngx_http_cwmp_policy_conf_ctx_t *ctx,
    ngx_str_t *path)
{
    ngx_str_t                 *name;
    ngx_uint_t                 i, *index;
    ngx_http_cwmp_policies_t  *policies;

    policies = ctx->policies;

    if (path->len == 0 || path->len > 256 || path->data[path->len - 1] == '.'
        || ngx_strlchr(path->data, path->data + path->len, ' '))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter name \"%V\"", path);
        return NGX_ERROR;
    }

    name = policies->wanted.elts;

    for (i = 0; i < policies->wanted.nelts; i++) {
        if (ngx_http_cwmp_policy_same(&name[i], path)) {
            break;
        }
    }

    if (i == policies->wanted.nelts) {
        name = ngx_array_push(&policies->wanted);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = *path;
    }

    /* and the policy's own list: only a device's candidates are read */

    index = ngx_array_push(&ctx->policy->params);
    if (index == NULL) {
        return NGX_ERROR;
    }

    *index = i;

    return i;
}


/* the index of an object whose instances the policies read, added once */

static ngx_int_t
ngx_http_cwmp_policy_object(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx, ngx_str_t *path)
{
    ngx_str_t                 *name;
    ngx_uint_t                 i, *index;
    ngx_http_cwmp_policies_t  *policies;

    policies = ctx->policies;
    name = policies->objects.elts;

    for (i = 0; i < policies->objects.nelts; i++) {
        if (ngx_http_cwmp_policy_same(&name[i], path)) {
            break;
        }
    }

    if (i == policies->objects.nelts) {
        name = ngx_array_push(&policies->objects);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = *path;
    }

    index = ngx_array_push(&ctx->policy->objects);
    if (index == NULL) {
        return NGX_ERROR;
    }

    *index = i;

    return i;
}


/* "home-$serial_number", "${InternetGatewayDevice.X.Y}-1" */

static ngx_array_t *
ngx_http_cwmp_policy_template(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx, ngx_str_t *value)
{
    u_char                *p, *end, *start;
    ngx_str_t              name;
    ngx_array_t           *parts;
    ngx_http_cwmp_part_t  *part;

    parts = ngx_array_create(cf->pool, 2, sizeof(ngx_http_cwmp_part_t));
    if (parts == NULL) {
        return NULL;
    }

    p = value->data;
    end = p + value->len;

    while (p < end) {
        part = ngx_array_push(parts);
        if (part == NULL) {
            return NULL;
        }

        part->field = -1;
        part->param = -1;
        part->device_id = 0;

        if (*p != '$') {
            start = p;
            while (p < end && *p != '$') {
                p++;
            }

            part->text.data = start;
            part->text.len = p - start;
            continue;
        }

        p++;

        if (p < end && *p == '{') {
            start = ++p;
            while (p < end && *p != '}') {
                p++;
            }

            if (p == end) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unterminated \"${\" in \"%V\"", value);
                return NULL;
            }

            name.data = start;
            name.len = p++ - start;

            part->param = ngx_http_cwmp_policy_want(cf, ctx, &name);
            if (part->param == NGX_ERROR) {
                return NULL;
            }

            continue;
        }

        start = p;
        while (p < end && (isalnum(*p) || *p == '_')) {
            p++;
        }

        name.data = start;
        name.len = p - start;

        if (name.len == sizeof("device_id") - 1
            && ngx_strncmp(name.data, "device_id", name.len) == 0)
        {
            part->device_id = 1;
            continue;
        }

        part->field = ngx_http_cwmp_policy_field(&name);

        if (part->field == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown variable \"$%V\" in \"%V\": "
                               "$serial_number, $oui, $product_class, "
                               "$manufacturer, $software_version, "
                               "$hardware_version, $device_id or ${<path>}",
                               &name, value);
            return NULL;
        }
    }

    return parts;
}


/* a device field a policy may match or expand ($software_version) */

static ngx_int_t
ngx_http_cwmp_policy_field(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_CWMP_DEV_LAST_EVENTS; i++) {
        if (ngx_http_cwmp_policy_same(&ngx_http_cwmp_dev_field_names[i],
                                      name))
        {
            return i;
        }
    }

    return NGX_ERROR;
}


static ngx_uint_t
ngx_http_cwmp_policy_number(ngx_conf_t *cf, ngx_str_t *s, ngx_uint_t max,
    ngx_uint_t *n)
{
    ngx_int_t  v;

    v = ngx_atoi(s->data, s->len);

    if (v == NGX_ERROR || (ngx_uint_t) v > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number \"%V\": 0 to %ui", s, max);
        return 0;
    }

    *n = v;

    return 1;
}


ngx_uint_t
ngx_http_cwmp_policy_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}
