
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The module's variables, for access logs and the rest of the
 * configuration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_module.h"
#include "ngx_http_cwmp_session.h"


static ngx_int_t ngx_http_cwmp_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/*
 * $cwmp_device_id, $cwmp_session_id (the token's first 8 hex digits: enough
 * to follow a session through the log, useless to take it over),
 * $cwmp_rpc ("<what the CPE sent>><what the ACS answered>", "-" for
 * nothing: "Inform>InformResponse", "->GetParameterValues"), $cwmp_events.
 */

static ngx_http_variable_t  ngx_http_cwmp_vars[] = {

    { ngx_string("cwmp_device_id"), NULL, ngx_http_cwmp_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cwmp_session_id"), NULL, ngx_http_cwmp_variable, 1,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cwmp_rpc"), NULL, ngx_http_cwmp_variable, 2,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cwmp_events"), NULL, ngx_http_cwmp_variable, 3,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_cwmp_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_cwmp_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  in, out;
    ngx_uint_t                 i;
    ngx_http_cwmp_ctx_t       *ctx;
    ngx_http_cwmp_event_t     *ev;
    ngx_http_cwmp_loc_conf_t  *lcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cwmp_module);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_cwmp_module);

    /* the ctx is a session's in "cwmp" locations only (the receiver's
     * is another) */

    if (ctx == NULL || lcf->enable != 1 || lcf->upload_dir.len) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case 0:
        v->data = ctx->device_id.data;
        v->len = ctx->device_id.len;
        break;

    case 1:
        v->data = ctx->token.data;
        v->len = ngx_min(ctx->token.len, 8);
        break;

    case 2:
        in = ctx->msg.method;
        out = ctx->rpc_out;

        if (in.len == 0) {
            ngx_str_set(&in, "-");
        }

        if (out.len == 0) {
            ngx_str_set(&out, "-");
        }

        p = ngx_pnalloc(r->pool, in.len + 1 + out.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        p = ngx_cpymem(p, in.data, in.len);
        *p++ = '>';
        p = ngx_cpymem(p, out.data, out.len);
        v->len = p - v->data;
        break;

    default: /* 3 */

        if (ctx->msg.type != NGX_HTTP_CWMP_MSG_INFORM
            || ctx->msg.events.nelts == 0)
        {
            v->not_found = 1;
            return NGX_OK;
        }

        ev = ctx->msg.events.elts;
        len = 0;

        for (i = 0; i < ctx->msg.events.nelts; i++) {
            len += ev[i].code.len + 1;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;

        for (i = 0; i < ctx->msg.events.nelts; i++) {
            if (i) {
                *p++ = ',';
            }

            p = ngx_cpymem(p, ev[i].code.data, ev[i].code.len);
        }

        v->len = p - v->data;
        break;
    }

    if (v->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}
