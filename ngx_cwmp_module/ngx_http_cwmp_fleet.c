
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The fleet's API in nginx configuration.  What other systems find,
 * follow and act on lives in Redis (redis-schema/README.md): the value
 * indexes cwmp:index:{<name>:<value>}, the event streams
 * cwmp:events:{<shard>}, the task status records; the directives here say
 * what goes there, and the store hands it to the device's scripts with
 * every call (lib/fleet.lua).
 *
 *   cwmp_index <name> <parameter>;      an operator's indexed parameter
 *   cwmp_index off;                     no value indexes
 *   cwmp_events all | off | <kind> ...; the kinds emitted
 *   cwmp_stream_retention <time> | off; streams trimmed by age (MINID)
 *   cwmp_retire_after <time> | off;     devices not seen are deleted
 *
 * and, set by nginx's own slots in ngx_http_cwmp_module.c:
 * cwmp_task_status_ttl (a finished task's status record), cwmp_online_margin
 * and cwmp_online_interval (a device is online until its last Inform, its
 * PeriodicInformInterval, or this when none is cached, and the margin)
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_fleet.h"


#define NGX_HTTP_CWMP_FLEET_NAME_MAX   32
#define NGX_HTTP_CWMP_FLEET_PATH_MAX   256
#define NGX_HTTP_CWMP_FLEET_EVENTS                                           \
    ",registered,boot,bootstrap,value_change,transfer_complete,"             \
    "diagnostics_complete,"


static char  *ngx_http_cwmp_fleet_kinds[] = {
    "session_opened", "session_ended", "registered", "boot", "bootstrap",
    "value_change", "transfer_complete", "diagnostics_complete", NULL
};


void
ngx_http_cwmp_fleet_create_conf(ngx_http_cwmp_store_fleet_t *fleet)
{
    fleet->status_ttl = NGX_CONF_UNSET;
    fleet->online_interval = NGX_CONF_UNSET;
    fleet->online_margin = NGX_CONF_UNSET;
    fleet->retention = NGX_CONF_UNSET;
    fleet->retire = NGX_CONF_UNSET;
    fleet->supported_data_model = NGX_CONF_UNSET;
}


char *
ngx_http_cwmp_fleet_init_conf(ngx_conf_t *cf,
    ngx_http_cwmp_store_fleet_t *fleet)
{
    if (fleet->index.elts == NULL
        && ngx_array_init(&fleet->index, cf->pool, 1, sizeof(ngx_keyval_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (fleet->events.data == NULL) {
        /*
         * the facts a system acts on; not the two of every session
         * (session_opened, session_ended: "cwmp_events all"), which cost a
         * periodic session about a fifth of its Redis work (bench/fleet)
         */
        ngx_str_set(&fleet->events, NGX_HTTP_CWMP_FLEET_EVENTS);
    }

    ngx_conf_init_value(fleet->status_ttl, 86400);
    ngx_conf_init_value(fleet->online_interval, 86400);
    ngx_conf_init_value(fleet->online_margin, 600);
    ngx_conf_init_value(fleet->retention, 0);
    ngx_conf_init_value(fleet->retire, 0);
    ngx_conf_init_value(fleet->supported_data_model, 0);

    if (fleet->status_ttl < 60) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_task_status_ttl\" must be at least 1m");
        return NGX_CONF_ERROR;
    }

    if (fleet->retention && fleet->retention < 60) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_stream_retention\" must be at least 1m");
        return NGX_CONF_ERROR;
    }

    if (fleet->retire && fleet->retire < 3600) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cwmp_retire_after\" must be at least 1h");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * cwmp_index <name> <parameter path>: indexed on every Inform and GPV;
 * cwmp_index off: none
 */

char *
ngx_http_cwmp_fleet_index(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                    *value;
    ngx_uint_t                    i;
    ngx_keyval_t                 *kv;
    ngx_http_cwmp_store_fleet_t  *fleet;

    fleet = (ngx_http_cwmp_store_fleet_t *) ((char *) conf + cmd->offset);
    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        /* cwmp_index off: no value index at all (memory, or a bench) */

        if (ngx_strcmp(value[1].data, "off") != 0) {
            return "takes \"off\", or a name and a parameter";
        }

        fleet->no_indexes = 1;
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].len > NGX_HTTP_CWMP_FLEET_NAME_MAX) {
        goto invalid_name;
    }

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')
              || value[1].data[i] == '_'))
        {
            goto invalid_name;
        }
    }

    if (ngx_http_cwmp_store_builtin_index(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "index \"%V\" is built in", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[2].len == 0 || value[2].len > NGX_HTTP_CWMP_FLEET_PATH_MAX
        || value[2].data[value[2].len - 1] == '.'
        || ngx_strlchr(value[2].data, value[2].data + value[2].len, '.')
           == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"%V\" directive: a "
                           "parameter's full path, not an object's",
                           &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (fleet->index.elts == NULL
        && ngx_array_init(&fleet->index, cf->pool, 4, sizeof(ngx_keyval_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    kv = fleet->index.elts;

    for (i = 0; i < fleet->index.nelts; i++) {
        if ((kv[i].key.len == value[1].len
             && ngx_strncmp(kv[i].key.data, value[1].data, value[1].len) == 0)
            || (kv[i].value.len == value[2].len
                && ngx_strncmp(kv[i].value.data, value[2].data,
                               value[2].len) == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "index \"%V\" or parameter \"%V\" is "
                               "indexed twice", &value[1], &value[2]);
            return NGX_CONF_ERROR;
        }
    }

    kv = ngx_array_push(&fleet->index);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];

    return NGX_CONF_OK;

invalid_name:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid index name \"%V\" in \"%V\" directive: 1 to "
                       "%d of a-z, 0-9 and _", &value[1], &cmd->name,
                       NGX_HTTP_CWMP_FLEET_NAME_MAX);
    return NGX_CONF_ERROR;
}


/* cwmp_events all | off | <kind> ... */

char *
ngx_http_cwmp_fleet_events(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                       *p;
    size_t                        len;
    ngx_str_t                    *value;
    ngx_uint_t                    i, k;
    ngx_http_cwmp_store_fleet_t  *fleet;

    fleet = (ngx_http_cwmp_store_fleet_t *) ((char *) conf + cmd->offset);

    if (fleet->events.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "all") == 0) {
        len = 1;
        for (k = 0; ngx_http_cwmp_fleet_kinds[k]; k++) {
            len += ngx_strlen(ngx_http_cwmp_fleet_kinds[k]) + 1;
        }

        p = ngx_pnalloc(cf->pool, len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        fleet->events.data = p;
        *p++ = ',';
        for (k = 0; ngx_http_cwmp_fleet_kinds[k]; k++) {
            p = ngx_sprintf(p, "%s,", ngx_http_cwmp_fleet_kinds[k]);
        }
        fleet->events.len = p - fleet->events.data;

        return NGX_CONF_OK;
    }

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&fleet->events, ",");
        return NGX_CONF_OK;
    }

    len = 1;

    for (i = 1; i < cf->args->nelts; i++) {
        for (k = 0; ngx_http_cwmp_fleet_kinds[k]; k++) {
            if (ngx_strcmp(value[i].data, ngx_http_cwmp_fleet_kinds[k]) == 0) {
                break;
            }
        }

        if (ngx_http_cwmp_fleet_kinds[k] == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown event kind \"%V\" in \"%V\" "
                               "directive", &value[i], &cmd->name);
            return NGX_CONF_ERROR;
        }

        len += value[i].len + 1;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    fleet->events.data = p;
    *p++ = ',';

    for (i = 1; i < cf->args->nelts; i++) {
        p = ngx_sprintf(p, "%V,", &value[i]);
    }

    fleet->events.len = p - fleet->events.data;

    return NGX_CONF_OK;
}


/*
 * cwmp_stream_retention <time> | off (off: trimmed by length, MAXLEN),
 * cwmp_retire_after <time> | off: a time, or 0 for off
 */

char *
ngx_http_cwmp_fleet_time_or_off(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    time_t     *t;
    ngx_str_t  *value;

    t = (time_t *) ((char *) conf + cmd->offset);

    if (*t != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        *t = 0;
        return NGX_CONF_OK;
    }

    *t = ngx_parse_time(&value[1], 1);

    if (*t == (time_t) NGX_ERROR || *t == 0) {
        return "invalid value";
    }

    return NGX_CONF_OK;
}
