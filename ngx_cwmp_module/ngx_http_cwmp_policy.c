
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
#include <ngx_http.h>

#include <jansson.h>

#include "ngx_http_cwmp_policy.h"
#include "ngx_http_cwmp_session.h"
#include "ngx_http_cwmp_task.h"


typedef enum {
    NGX_HTTP_CWMP_MATCH_FIELD = 0,
    NGX_HTTP_CWMP_MATCH_PARAM,
    NGX_HTTP_CWMP_MATCH_EVENT,
    NGX_HTTP_CWMP_MATCH_TAG,
    NGX_HTTP_CWMP_MATCH_WINDOW,
    NGX_HTTP_CWMP_MATCH_PERCENT
} ngx_http_cwmp_match_e;


typedef enum {
    NGX_HTTP_CWMP_OP_EQ = 0,
    NGX_HTTP_CWMP_OP_NE,
    NGX_HTTP_CWMP_OP_RE,
    NGX_HTTP_CWMP_OP_NRE
} ngx_http_cwmp_op_e;


typedef enum {
    NGX_HTTP_CWMP_ACT_VALUE = 0,
    NGX_HTTP_CWMP_ACT_REFRESH,
    NGX_HTTP_CWMP_ACT_NOTIFICATION,
    NGX_HTTP_CWMP_ACT_TAG_ADD,
    NGX_HTTP_CWMP_ACT_TAG_REMOVE,
    NGX_HTTP_CWMP_ACT_REBOOT,
    NGX_HTTP_CWMP_ACT_FIRMWARE,
    NGX_HTTP_CWMP_ACT_INSTANCES,
    NGX_HTTP_CWMP_ACT_INSTANCE,
    NGX_HTTP_CWMP_ACT_CONNREQ,
    NGX_HTTP_CWMP_ACT_ACS_AUTH
} ngx_http_cwmp_act_e;


/* the task classes, in the order a session runs them */

typedef enum {
    NGX_HTTP_CWMP_CLASS_READ = 0,
    NGX_HTTP_CWMP_CLASS_DELETE,
    NGX_HTTP_CWMP_CLASS_ADD,
    NGX_HTTP_CWMP_CLASS_SET,
    NGX_HTTP_CWMP_CLASS_ATTRIBUTES,
    NGX_HTTP_CWMP_CLASS_DOWNLOAD,
    NGX_HTTP_CWMP_CLASS_REBOOT,
    NGX_HTTP_CWMP_CLASSES
} ngx_http_cwmp_class_e;


/* how a policy stands on a device */

typedef enum {
    NGX_HTTP_CWMP_POLICY_ERROR = -1,
    NGX_HTTP_CWMP_POLICY_SATISFIED = 0,
    NGX_HTTP_CWMP_POLICY_WORK,                  /* tasks planned */
    NGX_HTTP_CWMP_POLICY_WAITING                /* a transfer or back-off */
} ngx_http_cwmp_standing_e;


/* a piece of a value template: text, a device field or a parameter */

typedef struct {
    ngx_str_t                    text;
    ngx_int_t                    field;         /* -1: text or parameter */
    ngx_int_t                    param;         /* -1: text or field */
    ngx_uint_t                   device_id;     /* $device_id */
} ngx_http_cwmp_part_t;


typedef struct {
    ngx_http_cwmp_match_e        what;
    ngx_http_cwmp_op_e           op;
    ngx_uint_t                   field;         /* FIELD */
    ngx_uint_t                   param;         /* PARAM */
    ngx_str_t                    value;
    ngx_regex_t                 *regex;
    ngx_uint_t                   negate;        /* !event, !tag */
    ngx_uint_t                   from, to;      /* WINDOW, minutes */
    ngx_uint_t                   percent;
} ngx_http_cwmp_match_t;


typedef struct {
    ngx_http_cwmp_act_e          type;
    ngx_str_t                    path;
    ngx_int_t                    param[2];      /* wanted indexes; [1]:
                                                   the TR-181 path of a
                                                   periodic_inform value */
    ngx_str_t                    path181;
    ngx_array_t                 *parts;         /* VALUE: the template */
    ngx_str_t                    type_name;     /* VALUE: "xsd:..." */
    time_t                       max_age;       /* REFRESH */
    ngx_uint_t                   level;         /* NOTIFICATION */
    ngx_str_t                    version;       /* FIRMWARE */
    ngx_str_t                    url;
    ngx_str_t                    file_type;
    ngx_uint_t                   object;        /* INSTANCE(S): index */
    ngx_uint_t                   count;         /* INSTANCES */
    ngx_str_t                    key;           /* INSTANCE: the key's name,
                                                   parts its value */
    ngx_array_t                 *values;        /* INSTANCE: the other
                                                   ngx_http_cwmp_value_t */
} ngx_http_cwmp_action_t;


/* a value of a new instance: a name relative to it, a template */

typedef struct {
    ngx_str_t                    name;
    ngx_array_t                 *parts;
} ngx_http_cwmp_value_t;


struct ngx_http_cwmp_policy_s {
    ngx_str_t                    name;
    ngx_array_t                  matches;       /* ngx_http_cwmp_match_t */
    ngx_array_t                  actions;       /* ngx_http_cwmp_action_t */
    ngx_array_t                  params;        /* ngx_uint_t: the wanted
                                                   values it reads */
    ngx_array_t                  objects;       /* ngx_uint_t: the objects
                                                   whose instances it reads */
    ngx_int_t                    campaign;      /* index, -1: none */
    ngx_uint_t                   max_in_progress;
    ngx_uint_t                   stop_after;
    ngx_uint_t                   stop_of;
    ngx_str_t                    stop_ratio;
};


typedef struct {
    ngx_http_cwmp_policies_t    *policies;
    ngx_http_cwmp_policy_t      *policy;
} ngx_http_cwmp_policy_conf_ctx_t;


typedef struct {
    ngx_http_request_t          *r;
    ngx_http_cwmp_policies_t    *policies;
    ngx_http_cwmp_store_inputs_t *in;
    ngx_str_t                   *device_id;
    time_t                       now;
    json_t                      *classes[NGX_HTTP_CWMP_CLASSES];
    json_t                      *ops;
} ngx_http_cwmp_eval_t;


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

static ngx_int_t ngx_http_cwmp_policy_matches(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_uint_t partial);
static ngx_int_t ngx_http_cwmp_policy_compare(ngx_http_cwmp_match_t *m,
    ngx_str_t *value);
static ngx_http_cwmp_standing_e ngx_http_cwmp_policy_eval(
    ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_policy_t *p);
static ngx_int_t ngx_http_cwmp_policy_push(json_t **list, json_t *item);
static ngx_int_t ngx_http_cwmp_policy_instances(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_http_cwmp_action_t *a);
static json_t *ngx_http_cwmp_policy_credentials(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_uint_t acs, ngx_uint_t d181,
    ngx_str_t *username);
static json_t *ngx_http_cwmp_policy_task(ngx_http_cwmp_policy_t *p,
    const char *name);
static ngx_int_t ngx_http_cwmp_policy_expand(ngx_http_cwmp_eval_t *ev,
    ngx_array_t *parts, ngx_str_t *out);
static ngx_str_t *ngx_http_cwmp_policy_state(ngx_http_cwmp_eval_t *ev,
    const char *prefix, ngx_str_t *name);
static ngx_uint_t ngx_http_cwmp_policy_has(ngx_array_t *list, ngx_str_t *s);
static ngx_uint_t ngx_http_cwmp_policy_same(ngx_str_t *a, ngx_str_t *b);
static json_t *ngx_http_cwmp_policy_str(ngx_str_t *s);
static json_t *ngx_http_cwmp_policy_rules(ngx_http_cwmp_policy_t *p);
static ngx_int_t ngx_http_cwmp_policy_dump(ngx_http_request_t *r,
    json_t *json, ngx_str_t *out);


static ngx_str_t  ngx_http_cwmp_policy_fields[] = {
    ngx_string("oui"),
    ngx_string("product_class"),
    ngx_string("serial_number"),
    ngx_string("manufacturer"),
    ngx_string("software_version"),
    ngx_string("hardware_version"),
    ngx_string("data_model"),
    ngx_null_string
};


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
 * notification <path> <0-6>;
 * tag add|remove <name>;
 * reboot;
 * periodic_inform <seconds>;
 * firmware <version> <url> [<file type>];
 * instances <object.> <n>;
 * instance <object.> <key> <value> [<name> <value>]...;
 * connreq_credentials [<username>];
 * acs_credentials [<username>];
 */

static char *
ngx_http_cwmp_policy_action(ngx_conf_t *cf,
    ngx_http_cwmp_policy_conf_ctx_t *ctx)
{
    u_char                  *buf;
    ngx_str_t               *value, s;
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

    if (ngx_strcmp(value[0].data, "refresh") == 0 && nargs == 3) {
        a->type = NGX_HTTP_CWMP_ACT_REFRESH;
        a->path = value[1];
        a->max_age = ngx_parse_time(&value[2], 1);

        if (a->max_age == (time_t) NGX_ERROR || a->max_age < 60) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max-age \"%V\": at least 60s",
                               &value[2]);
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

        if (ngx_strncmp(a->url.data, "http://", 7) != 0
            && ngx_strncmp(a->url.data, "https://", 8) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid firmware URL \"%V\": http:// or "
                               "https:// expected", &a->url);
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


static ngx_int_t
ngx_http_cwmp_policy_field(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_cwmp_policy_fields[i].len; i++) {
        if (ngx_http_cwmp_policy_same(&ngx_http_cwmp_policy_fields[i], name)) {
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


/* evaluation ---------------------------------------------------------- */

/*
 * At an Inform, before Redis is asked: the policies the device's own
 * fields, events, the time and its share leave in play, and the cached
 * values they read (the indexes into the wanted list).  A device sees the
 * cost of the policies written for it, not of all of them.
 */

ngx_int_t
ngx_http_cwmp_policy_candidates(ngx_http_request_t *r,
    ngx_http_cwmp_policies_t *policies, ngx_str_t *device,
    ngx_str_t *device_id, ngx_array_t *index, ngx_array_t *objects)
{
    u_char                        *seen, *seen_object;
    ngx_uint_t                     i, j, *k, *e;
    ngx_http_cwmp_eval_t           ev;
    ngx_http_cwmp_policy_t       **pp;
    ngx_http_cwmp_store_inputs_t   in;

    if (ngx_array_init(index, r->pool, policies->wanted.nelts + 1,
                       sizeof(ngx_uint_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    seen = ngx_pcalloc(r->pool, policies->wanted.nelts + 1);
    seen_object = ngx_pcalloc(r->pool, policies->objects.nelts + 1);

    if (seen == NULL || seen_object == NULL
        || ngx_array_init(objects, r->pool, policies->objects.nelts + 1,
                          sizeof(ngx_uint_t)) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_memzero(&ev, sizeof(ngx_http_cwmp_eval_t));
    ngx_memzero(&in, sizeof(ngx_http_cwmp_store_inputs_t));
    ngx_memcpy(in.device, device, sizeof(in.device));

    ev.r = r;
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
ngx_http_cwmp_policy_plan(ngx_http_request_t *r,
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

    ev.r = r;
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

    if (ngx_http_cwmp_policy_dump(r, all, plan) != NGX_OK
        || ngx_http_cwmp_policy_dump(r, ev.ops, ops) != NGX_OK)
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
 * One policy on one device: its tasks (appended to the session's classes)
 * and how it stands.
 */

static ngx_http_cwmp_standing_e
ngx_http_cwmp_policy_eval(ngx_http_cwmp_eval_t *ev, ngx_http_cwmp_policy_t *p)
{
    u_char                   *buf, *last;
    json_t                   *reads, *sets, *attrs, *t, *marks, *later;
    time_t                    at, age;
    ngx_str_t                *values, *st, path, want, mark, *root;
    ngx_int_t                 param, attempts;
    ngx_uint_t                i, acs, d181, waiting, truth, ntasks, pending;
    ngx_http_cwmp_action_t   *a;

    values = ev->in->values.elts;
    waiting = 0;
    ntasks = 0;
    pending = 0;

    /* made when first needed: most policies on most devices want nothing */

    reads = NULL;
    sets = NULL;
    attrs = NULL;
    marks = NULL;
    later = NULL;

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

    root = &ev->in->device[NGX_HTTP_CWMP_DEV_DATA_MODEL];
    d181 = (root->len == sizeof("Device") - 1
            && ngx_strncmp(root->data, "Device", root->len) == 0);

    a = p->actions.elts;

    for (i = 0; i < p->actions.nelts; i++) {

        switch (a[i].type) {

        case NGX_HTTP_CWMP_ACT_VALUE:
            path = (d181 && a[i].path181.len) ? a[i].path181 : a[i].path;
            param = (d181 && a[i].path181.len) ? a[i].param[1]
                                               : a[i].param[0];

            if ((ngx_uint_t) param >= ev->in->values.nelts) {
                break;
            }

            if (ngx_http_cwmp_policy_expand(ev, a[i].parts, &want)
                != NGX_OK)
            {
                /* a variable not cached yet: fetched first */
                waiting = 1;
                break;
            }

            if (values[param].data == NULL) {
                if (ngx_http_cwmp_policy_push(&reads,
                                              ngx_http_cwmp_policy_str(&path))
                    != NGX_OK)
                {
                    goto failed;
                }

                break;
            }

            truth = ngx_http_cwmp_policy_truth(&want);

            if (ngx_http_cwmp_policy_same(&values[param], &want)
                || (truth != 2
                    && truth == ngx_http_cwmp_policy_truth(&values[param])))
            {
                break;
            }

            t = a[i].type_name.len
                ? json_pack("[o, o, s%]", ngx_http_cwmp_policy_str(&path),
                            ngx_http_cwmp_policy_str(&want),
                            a[i].type_name.data, a[i].type_name.len)
                : json_pack("[o, o]", ngx_http_cwmp_policy_str(&path),
                            ngx_http_cwmp_policy_str(&want));

            if (ngx_http_cwmp_policy_push(&sets, t) != NGX_OK) {
                goto failed;
            }

            break;

        case NGX_HTTP_CWMP_ACT_REFRESH:
            st = ngx_http_cwmp_policy_state(ev, "refresh:", &a[i].path);
            at = st ? ngx_atotm(st->data, st->len) : 0;

            /* a per-device jitter of up to a tenth of the age */
            age = a[i].max_age
                  - (time_t) (ngx_murmur_hash2(ev->device_id->data,
                                               ev->device_id->len)
                              % (a[i].max_age / 10 + 1));

            if (at != NGX_ERROR && at + age > ev->now) {
                break;
            }

            if (a[i].path.data[a[i].path.len - 1] == '.') {
                t = ngx_http_cwmp_policy_task(p, "refreshObject");
                if (t == NULL) {
                    goto failed;
                }

                json_object_set_new(t, "objectName",
                                    ngx_http_cwmp_policy_str(&a[i].path));

            } else {
                t = ngx_http_cwmp_policy_task(p, "getParameterValues");
                if (t == NULL) {
                    goto failed;
                }

                json_object_set_new(t, "parameterNames",
                                    json_pack("[o]",
                                      ngx_http_cwmp_policy_str(&a[i].path)));
            }

            buf = ngx_pnalloc(ev->r->pool,
                              sizeof("refresh:") - 1 + a[i].path.len);
            if (buf == NULL) {
                json_decref(t);
                goto failed;
            }

            last = ngx_sprintf(buf, "refresh:%V", &a[i].path);

            json_object_set_new(t, "marks",
                                json_pack("{s%: I}", buf, last - buf,
                                          (json_int_t) ev->now));
            json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_READ], t);
            ntasks++;
            break;

        case NGX_HTTP_CWMP_ACT_NOTIFICATION:
            st = ngx_http_cwmp_policy_state(ev, "notification:", &a[i].path);

            if (st && (ngx_uint_t) ngx_atoi(st->data, st->len)
                      == a[i].level)
            {
                break;
            }

            if (ngx_http_cwmp_policy_push(&attrs, json_pack("{s: o, s: i}",
                    "name", ngx_http_cwmp_policy_str(&a[i].path),
                    "notification", (int) a[i].level))
                != NGX_OK)
            {
                goto failed;
            }

            if (marks == NULL) {
                marks = json_object();
                if (marks == NULL) {
                    goto failed;
                }
            }

            buf = ngx_pnalloc(ev->r->pool,
                              sizeof("notification:") - 1 + a[i].path.len);
            if (buf == NULL) {
                goto failed;
            }

            last = ngx_sprintf(buf, "notification:%V", &a[i].path);
            json_object_setn_new(marks, (char *) buf, last - buf,
                                 json_integer(a[i].level));
            break;

        case NGX_HTTP_CWMP_ACT_TAG_ADD:
        case NGX_HTTP_CWMP_ACT_TAG_REMOVE:
            if (ngx_http_cwmp_policy_has(&ev->in->tags, &a[i].path)
                == (a[i].type == NGX_HTTP_CWMP_ACT_TAG_ADD))
            {
                break;
            }

            json_array_append_new(ev->ops, json_pack("[s, s%]",
                a[i].type == NGX_HTTP_CWMP_ACT_TAG_ADD ? "tag_add"
                                                        : "tag_remove",
                a[i].path.data, a[i].path.len));
            break;

        case NGX_HTTP_CWMP_ACT_REBOOT:
            if (ngx_http_cwmp_policy_state(ev, "reboot:", &p->name)) {
                break;
            }

            t = ngx_http_cwmp_policy_task(p, "reboot");
            if (t == NULL) {
                goto failed;
            }

            mark.len = sizeof("reboot:") - 1 + p->name.len;
            mark.data = ngx_pnalloc(ev->r->pool, mark.len);
            if (mark.data == NULL) {
                json_decref(t);
                goto failed;
            }

            ngx_sprintf(mark.data, "reboot:%V", &p->name);
            json_object_set_new(t, "marks",
                                json_pack("{s%: I}", mark.data, mark.len,
                                          (json_int_t) ev->now));
            if (ngx_http_cwmp_policy_push(&later,
                    json_pack("[i, o]", NGX_HTTP_CWMP_CLASS_REBOOT, t))
                != NGX_OK)
            {
                goto failed;
            }

            break;

        case NGX_HTTP_CWMP_ACT_CONNREQ:
        case NGX_HTTP_CWMP_ACT_ACS_AUTH:
            acs = (a[i].type == NGX_HTTP_CWMP_ACT_ACS_AUTH);

            if (ngx_http_cwmp_policy_state(ev, acs ? "acs_auth:"
                                                   : "connreq:", &p->name))
            {
                break;
            }

            if (ngx_http_cwmp_policy_expand(ev, a[i].parts, &want)
                != NGX_OK)
            {
                waiting = 1;
                break;
            }

            t = ngx_http_cwmp_policy_credentials(ev, p, acs, d181, &want);
            if (t == NULL) {
                goto failed;
            }

            json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_SET], t);
            ntasks++;
            break;

        case NGX_HTTP_CWMP_ACT_INSTANCES:
        case NGX_HTTP_CWMP_ACT_INSTANCE:
            switch (ngx_http_cwmp_policy_instances(ev, p, &a[i])) {

            case NGX_ERROR:
                goto failed;

            case NGX_AGAIN:
                /* the object is fetched first: it is a read */
                pending = 1;
                ntasks++;
                break;

            case NGX_DONE:
                ntasks++;
                break;

            case NGX_BUSY:
                waiting = 1;
                break;

            default: /* NGX_OK: as declared */
                break;
            }

            break;

        case NGX_HTTP_CWMP_ACT_FIRMWARE:
            st = &ev->in->device[NGX_HTTP_CWMP_DEV_SOFTWARE_VERSION];

            if (st->data == NULL
                || ngx_http_cwmp_policy_same(st, &a[i].version))
            {
                break;
            }

            /* "<version> <attempts> <time>" of the last download sent */

            st = ngx_http_cwmp_policy_state(ev, "firmware:", &p->name);
            attempts = 0;
            at = 0;

            if (st && st->len > a[i].version.len + 1
                && ngx_strncmp(st->data, a[i].version.data,
                               a[i].version.len) == 0
                && st->data[a[i].version.len] == ' ')
            {
                buf = st->data + a[i].version.len + 1;
                last = ngx_strlchr(buf, st->data + st->len, ' ');

                if (last) {
                    attempts = ngx_atoi(buf, last - buf);
                    at = ngx_atotm(last + 1, st->data + st->len - last - 1);
                }
            }

            if (attempts >= 3) {
                /* three downloads and the version is still not there */
                buf = ngx_pnalloc(ev->r->pool, a[i].version.len + 64);
                if (buf == NULL) {
                    goto failed;
                }

                last = ngx_sprintf(buf, "3 downloads and SoftwareVersion "
                                   "is still not %V", &a[i].version);

                json_array_append_new(ev->ops, json_pack("[s, s%, {s: s, "
                    "s: s%}, o]", "fail", p->name.data, p->name.len,
                    "error", "firmware", "detail", buf, last - buf,
                    ngx_http_cwmp_policy_rules(p)));
                waiting = 1;
                break;
            }

            if (at > 0 && at + 3600 > ev->now) {
                /* a download in progress: its Inform comes first */
                waiting = 1;
                break;
            }

            t = ngx_http_cwmp_policy_task(p, "download");
            if (t == NULL) {
                goto failed;
            }

            json_object_set_new(t, "fileType",
                                ngx_http_cwmp_policy_str(&a[i].file_type));
            json_object_set_new(t, "url",
                                ngx_http_cwmp_policy_str(&a[i].url));

            mark.len = sizeof("firmware:") - 1 + p->name.len;
            mark.data = ngx_pnalloc(ev->r->pool, mark.len);
            buf = ngx_pnalloc(ev->r->pool, a[i].version.len
                                           + 2 * NGX_INT_T_LEN + 2);
            if (mark.data == NULL || buf == NULL) {
                json_decref(t);
                goto failed;
            }

            ngx_sprintf(mark.data, "firmware:%V", &p->name);
            last = ngx_sprintf(buf, "%V %i %T", &a[i].version, attempts + 1,
                               ev->now);

            json_object_set_new(t, "marks",
                                json_pack("{s%: s%}", mark.data, mark.len,
                                          buf, last - buf));
            if (ngx_http_cwmp_policy_push(&later,
                    json_pack("[i, o]", NGX_HTTP_CWMP_CLASS_DOWNLOAD, t))
                != NGX_OK)
            {
                goto failed;
            }

            break;
        }
    }

    /* one GetParameterValues, one SetParameterValues, one attributes */

    if (json_array_size(reads)) {
        t = ngx_http_cwmp_policy_task(p, "getParameterValues");
        if (t == NULL) {
            goto failed;
        }

        json_object_set(t, "parameterNames", reads);
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_READ], t);
        ntasks++;

    } else if (json_array_size(sets)) {
        /* values are set once all are known: one RPC */
        t = ngx_http_cwmp_policy_task(p, "setParameterValues");
        if (t == NULL) {
            goto failed;
        }

        json_object_set(t, "parameterValues", sets);
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_SET], t);
        ntasks++;
    }

    /*
     * Attributes, downloads and reboots wait for the values this policy
     * still has to read and set: a reboot must not come before them.
     */

    if (json_array_size(reads) || pending) {
        json_array_clear(attrs);
        json_array_clear(later);
    }

    for (i = 0; i < json_array_size(later); i++) {
        t = json_array_get(later, i);
        json_array_append(ev->classes[json_integer_value(
                                          json_array_get(t, 0))],
                          json_array_get(t, 1));
        ntasks++;
    }

    if (json_array_size(attrs)) {
        t = ngx_http_cwmp_policy_task(p, "setParameterAttributes");
        if (t == NULL) {
            goto failed;
        }

        json_object_set(t, "parameterAttributes", attrs);
        json_object_set(t, "marks", marks);
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_ATTRIBUTES],
                              t);
        ntasks++;
    }

    json_decref(reads);
    json_decref(sets);
    json_decref(attrs);
    json_decref(marks);
    json_decref(later);

    if (ntasks) {
        return NGX_HTTP_CWMP_POLICY_WORK;
    }

    return waiting ? NGX_HTTP_CWMP_POLICY_WAITING
                   : NGX_HTTP_CWMP_POLICY_SATISFIED;

failed:

    if (reads) {
        json_decref(reads);
    }

    if (sets) {
        json_decref(sets);
    }

    if (attrs) {
        json_decref(attrs);
    }

    if (marks) {
        json_decref(marks);
    }

    if (later) {
        json_decref(later);
    }

    return NGX_HTTP_CWMP_POLICY_ERROR;
}


/* appends, making the list first when needed; the item is stolen */

static ngx_int_t
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
    u_char                 *buf, *last, *dot, *q;
    json_t                 *t, *pv;
    ngx_str_t              *st, leaf, want, v;
    ngx_int_t               n;
    ngx_uint_t              i, j, k, count, *nums, exists;
    ngx_array_t            *known;
    ngx_keyval_t           *kv;
    ngx_http_cwmp_value_t  *value;

    buf = ngx_pnalloc(ev->r->pool, sizeof("refresh:") - 1 + a->path.len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(buf, "refresh:%V", &a->path);

    st = ngx_http_cwmp_policy_state(ev, "refresh:", &a->path);

    if (st == NULL || (st->len == 1 && st->data[0] == '0')) {
        t = ngx_http_cwmp_policy_task(p, "refreshObject");
        if (t == NULL) {
            return NGX_ERROR;
        }

        json_object_set_new(t, "objectName",
                            ngx_http_cwmp_policy_str(&a->path));
        json_object_set_new(t, "marks", json_pack("{s%: I}", buf, last - buf,
                                                  (json_int_t) ev->now));
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_READ], t);

        return NGX_AGAIN;
    }

    /* the instance numbers the cache has, ascending, once each */

    known = (a->object < ev->in->objects.nelts)
            ? &((ngx_array_t *) ev->in->objects.elts)[a->object] : NULL;

    nums = ngx_palloc(ev->r->pool,
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
        json_object_set_new(t, "marks", json_pack("{s%: i}", buf, last - buf,
                                                  0));
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
        json_object_set_new(t, "marks", json_pack("{s%: i}", buf, last - buf,
                                                  0));
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_ADD], t);
    }

    /* too many: the newest go */

    for (i = count; i > a->count; i--) {
        t = ngx_http_cwmp_policy_task(p, "deleteObject");
        if (t == NULL) {
            return NGX_ERROR;
        }

        v.data = ngx_pnalloc(ev->r->pool, a->path.len + NGX_INT_T_LEN + 1);
        if (v.data == NULL) {
            json_decref(t);
            return NGX_ERROR;
        }

        v.len = ngx_sprintf(v.data, "%V%ui.", &a->path, nums[i - 1])
                - v.data;

        json_object_set_new(t, "objectName", ngx_http_cwmp_policy_str(&v));
        json_object_set_new(t, "marks", json_pack("{s%: i}", buf, last - buf,
                                                  0));
        json_array_append_new(ev->classes[NGX_HTTP_CWMP_CLASS_DELETE], t);
    }

    return NGX_DONE;
}


/*
 * Credentials for the device, a fresh random password (128 bits of the
 * CSPRNG) set on it: the ACS's for its connection requests, kept in
 * cwmp:device:{<ID>}:connreq once it applied them ("connreq"); or its own
 * for the ACS (ManagementServer.Username/Password), which the ACS accepts
 * from the moment the task is sent and keeps in cwmp:device:{<ID>}:auth
 * ("acs_auth", session_step.lua).  The values stay out of the parameter
 * cache and the results ("secret").
 */

static json_t *
ngx_http_cwmp_policy_credentials(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_policy_t *p, ngx_uint_t acs, ngx_uint_t d181,
    ngx_str_t *username)
{
    u_char     password[32], *buf, *last;
    char      *root, *user, *pass, *kind;
    json_t    *t;
    ngx_str_t  pw;

    if (ngx_http_cwmp_session_random_hex(password, sizeof(password),
                                         ev->r->connection->log)
        != NGX_OK)
    {
        return NULL;
    }

    pw.data = password;
    pw.len = sizeof(password);

    root = d181 ? "Device" : "InternetGatewayDevice";
    kind = acs ? "acs_auth" : "connreq";
    user = acs ? "Username" : "ConnectionRequestUsername";
    pass = acs ? "Password" : "ConnectionRequestPassword";

    buf = ngx_pnalloc(ev->r->pool, sizeof("acs_auth:") - 1 + p->name.len);
    if (buf == NULL) {
        return NULL;
    }

    last = ngx_sprintf(buf, "%s:%V", kind, &p->name);

    t = ngx_http_cwmp_policy_task(p, "setParameterValues");
    if (t == NULL) {
        return NULL;
    }

    json_object_set_new(t, "parameterValues", json_pack("[[s++, o], [s++, o]]",
        root, ".ManagementServer.", user, ngx_http_cwmp_policy_str(username),
        root, ".ManagementServer.", pass, ngx_http_cwmp_policy_str(&pw)));
    json_object_set_new(t, kind, json_pack("{s: o, s: o}",
        "username", ngx_http_cwmp_policy_str(username),
        "password", ngx_http_cwmp_policy_str(&pw)));
    json_object_set_new(t, "secret", json_true());
    json_object_set_new(t, "marks", json_pack("{s%: I}", buf, last - buf,
                                              (json_int_t) ev->now));

    return t;
}


/* {"id": "policy:<name>", "policy": "<name>", "name": ..., "rules": ...} */

static json_t *
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

static json_t *
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

static ngx_int_t
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
            out->data = ngx_pnalloc(ev->r->pool, len + 1);
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

static ngx_str_t *
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


static ngx_uint_t
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


static ngx_uint_t
ngx_http_cwmp_policy_same(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || ngx_memcmp(a->data, b->data, a->len) == 0);
}


static json_t *
ngx_http_cwmp_policy_str(ngx_str_t *s)
{
    return json_stringn(s->len ? (char *) s->data : "", s->len);
}


static ngx_int_t
ngx_http_cwmp_policy_dump(ngx_http_request_t *r, json_t *json, ngx_str_t *out)
{
    if (json_is_array(json) && json_array_size(json) == 0) {
        /* the common answer, without the serializer */
        ngx_str_set(out, "[]");
        return NGX_OK;
    }

    /* the caller keeps its reference */

    return ngx_http_cwmp_task_json(r, json_incref(json), out);
}
