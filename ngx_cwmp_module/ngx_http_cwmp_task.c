
/*
 * Copyright (C) ngx_cwmp authors
 *
 * A task is a JSON document: {"id": "...", "name": "getParameterValues",
 * "parameterNames": [...]} (GenieACS's NBI vocabulary, so integrators'
 * scripts carry over).  Every string that reaches the envelope is escaped;
 * a task that cannot be sent gets a fault result saying exactly why.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_sha1.h>

#include <jansson.h>

#include "ngx_http_cwmp_task.h"


#define NGX_HTTP_CWMP_MAX_NAMES    4096
#define NGX_HTTP_CWMP_COMMAND_KEY  32         /* CommandKey, XSD */


typedef struct {
    ngx_str_t                    path;          /* instances as {i} */
    ngx_uint_t                   type;
} ngx_http_cwmp_dm_type_t;


#include "ngx_http_cwmp_datamodel.h"


typedef struct {
    ngx_pool_t                  *pool;
    u_char                      *start;
    u_char                      *pos;
    u_char                      *end;
    char                        *error;         /* why the task is bad */
    ngx_uint_t                   nomem;
    json_t                      *types;         /* cached types, or NULL */
} ngx_http_cwmp_xml_t;


typedef ngx_int_t (*ngx_http_cwmp_build_pt)(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);


typedef struct {
    char                        *task;          /* the task's "name" */
    char                        *method;        /* the CWMP method */
    ngx_http_cwmp_build_pt       build;         /* its arguments */
} ngx_http_cwmp_rpc_t;


static ngx_int_t ngx_http_cwmp_task_failed(ngx_http_request_t *r,
    ngx_http_cwmp_outcome_t *outcome, char *status, char *reason,
    const char *detail);
static void ngx_http_cwmp_task_json_cleanup(void *data);

static ngx_int_t ngx_http_cwmp_build_names(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_refresh(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_spv(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_gpn(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_spa(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_object(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_command(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_none(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_schedule_inform(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_transfer(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_cancel(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_schedule_download(
    ngx_http_cwmp_xml_t *x, json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_build_du_state(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);

static void ngx_http_cwmp_xml_raw(ngx_http_cwmp_xml_t *x, char *s);
static void ngx_http_cwmp_xml_text(ngx_http_cwmp_xml_t *x, const char *s,
    size_t len);
static void ngx_http_cwmp_xml_element(ngx_http_cwmp_xml_t *x, char *name,
    const char *value, size_t len);
static ngx_int_t ngx_http_cwmp_xml_string_arg(ngx_http_cwmp_xml_t *x,
    json_t *task, char *key, char *element, ngx_uint_t required);
static ngx_int_t ngx_http_cwmp_xml_uint_arg(ngx_http_cwmp_xml_t *x,
    json_t *task, char *key, char *element, ngx_uint_t required);
static ngx_int_t ngx_http_cwmp_xml_parameter_key(ngx_http_cwmp_xml_t *x,
    json_t *task);
static json_t *ngx_http_cwmp_object_name(ngx_http_cwmp_xml_t *x,
    json_t *task);
static ngx_int_t ngx_http_cwmp_xml_grow(ngx_http_cwmp_xml_t *x, size_t len);

static ngx_int_t ngx_http_cwmp_outcome_fault(ngx_http_request_t *r,
    xmlNodePtr fault, json_t *res, ngx_http_cwmp_outcome_t *outcome);
static ngx_int_t ngx_http_cwmp_outcome_values(ngx_http_request_t *r,
    xmlNodePtr rpc, json_t *res, ngx_http_cwmp_outcome_t *outcome);
static ngx_int_t ngx_http_cwmp_outcome_names(ngx_http_request_t *r,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_attributes(ngx_http_request_t *r,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_fields(ngx_http_request_t *r,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_strings(ngx_http_request_t *r,
    xmlNodePtr list, json_t *res, char *key);
static json_t *ngx_http_cwmp_json_text(ngx_http_request_t *r,
    xmlNodePtr node);
static json_t *ngx_http_cwmp_json_number(ngx_http_request_t *r,
    xmlNodePtr node);
static json_t *ngx_http_cwmp_json_tree(ngx_http_request_t *r,
    xmlNodePtr node);
static char *ngx_http_cwmp_datamodel_type(const char *path, size_t len);


static ngx_http_cwmp_rpc_t  ngx_http_cwmp_rpcs[] = {
    { "getParameterValues", "GetParameterValues",
      ngx_http_cwmp_build_names },
    { "refreshObject", "GetParameterValues",
      ngx_http_cwmp_build_refresh },
    { "setParameterValues", "SetParameterValues",
      ngx_http_cwmp_build_spv },
    { "getParameterNames", "GetParameterNames",
      ngx_http_cwmp_build_gpn },
    { "getParameterAttributes", "GetParameterAttributes",
      ngx_http_cwmp_build_names },
    { "setParameterAttributes", "SetParameterAttributes",
      ngx_http_cwmp_build_spa },
    { "addObject", "AddObject", ngx_http_cwmp_build_object },
    { "deleteObject", "DeleteObject", ngx_http_cwmp_build_object },
    { "reboot", "Reboot", ngx_http_cwmp_build_command },
    { "factoryReset", "FactoryReset", ngx_http_cwmp_build_none },
    { "getRPCMethods", "GetRPCMethods", ngx_http_cwmp_build_none },
    { "scheduleInform", "ScheduleInform",
      ngx_http_cwmp_build_schedule_inform },
    { "download", "Download", ngx_http_cwmp_build_transfer },
    { "upload", "Upload", ngx_http_cwmp_build_transfer },
    { "cancelTransfer", "CancelTransfer", ngx_http_cwmp_build_cancel },
    { "scheduleDownload", "ScheduleDownload",
      ngx_http_cwmp_build_schedule_download },
    { "changeDUState", "ChangeDUState", ngx_http_cwmp_build_du_state },
    { "getAllQueuedTransfers", "GetAllQueuedTransfers",
      ngx_http_cwmp_build_none },
    { NULL, NULL, NULL }
};


ngx_int_t
ngx_http_cwmp_task_request(ngx_http_request_t *r, ngx_str_t *raw,
    ngx_str_t *types, ngx_str_t *body, ngx_http_cwmp_outcome_t *outcome)
{
    u_char                digest[20];
    json_t               *task, *v;
    ngx_str_t             id;
    ngx_sha1_t            sha1;
    ngx_uint_t            i;
    const char           *name;
    json_error_t          err;
    ngx_pool_cleanup_t   *cln;
    ngx_http_cwmp_rpc_t  *rpc;
    ngx_http_cwmp_xml_t   x;

    if (raw->len > NGX_HTTP_CWMP_MAX_TASK) {
        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "task too large", NULL);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    task = json_loadb((const char *) raw->data, raw->len,
                      JSON_REJECT_DUPLICATES, &err);

    if (task == NULL) {
        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "invalid JSON", err.text);
    }

    cln->handler = ngx_http_cwmp_task_json_cleanup;
    cln->data = task;

    if (!json_is_object(task)) {
        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "a task is a JSON object", NULL);
    }

    /* its id, or the one session_step.lua derives: the CommandKey */

    v = json_object_get(task, "id");

    if (json_is_string(v) && json_string_length(v)) {
        id.data = (u_char *) json_string_value(v);
        id.len = json_string_length(v);

    } else if (v != NULL && !json_is_string(v)) {
        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "\"id\" must be a string", NULL);

    } else {
        /* as session_step.lua names it: the first 16 hex of its SHA1 */

        id.data = ngx_pnalloc(r->pool, 40);
        if (id.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sha1_init(&sha1);
        ngx_sha1_update(&sha1, raw->data, raw->len);
        ngx_sha1_final(digest, &sha1);

        ngx_hex_dump(id.data, digest, 20);
        id.len = 16;
    }

    v = json_object_get(task, "expiry");

    if (v != NULL) {
        if (!json_is_number(v)) {
            return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                             "\"expiry\" must be a number",
                                             NULL);
        }

        if (json_number_value(v) < (double) ngx_time()) {
            return ngx_http_cwmp_task_failed(r, outcome, "expired",
                                             "expired before it could run",
                                             NULL);
        }
    }

    name = json_string_value(json_object_get(task, "name"));

    if (name == NULL) {
        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "\"name\" is missing", NULL);
    }

    rpc = NULL;

    for (i = 0; ngx_http_cwmp_rpcs[i].task; i++) {
        if (ngx_strcmp(ngx_http_cwmp_rpcs[i].task, name) == 0) {
            rpc = &ngx_http_cwmp_rpcs[i];
            break;
        }
    }

    if (rpc == NULL) {
        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "unknown task name", name);
    }

    ngx_memzero(&x, sizeof(ngx_http_cwmp_xml_t));
    x.pool = r->pool;

    if (types && types->len > 2) {
        x.types = json_loadb((const char *) types->data, types->len, 0,
                             &err);

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            json_decref(x.types);
            return NGX_ERROR;
        }

        cln->handler = ngx_http_cwmp_task_json_cleanup;
        cln->data = x.types;
    }

    ngx_http_cwmp_xml_raw(&x, "<cwmp:");
    ngx_http_cwmp_xml_raw(&x, rpc->method);
    ngx_http_cwmp_xml_raw(&x, ">" CRLF);

    if (rpc->build(&x, task, &id) != NGX_OK || x.error) {
        if (x.nomem) {
            return NGX_ERROR;
        }

        return ngx_http_cwmp_task_failed(r, outcome, "fault",
                                         "invalid arguments", x.error);
    }

    ngx_http_cwmp_xml_raw(&x, "</cwmp:");
    ngx_http_cwmp_xml_raw(&x, rpc->method);
    ngx_http_cwmp_xml_raw(&x, ">" CRLF);

    if (x.nomem) {
        return NGX_ERROR;
    }

    body->data = x.start;
    body->len = x.pos - x.start;

    outcome->request.data = (u_char *) rpc->method;
    outcome->request.len = ngx_strlen(rpc->method);

    return NGX_OK;
}


/* a task that will not run: its result says why */

static ngx_int_t
ngx_http_cwmp_task_failed(ngx_http_request_t *r,
    ngx_http_cwmp_outcome_t *outcome, char *status, char *reason,
    const char *detail)
{
    json_t  *res;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cwmp: task not sent: %s%s%s", reason,
                  detail ? ": " : "", detail ? detail : "");

    res = json_pack("{s:s}", "error", reason);
    if (res == NULL) {
        return NGX_ERROR;
    }

    if (detail && json_object_set_new(res, "detail", json_string(detail))
                  != 0)
    {
        /* not valid UTF-8: the reason alone */
    }

    outcome->status.data = (u_char *) status;
    outcome->status.len = ngx_strlen(status);
    ngx_str_null(&outcome->answer);
    outcome->apply = 0;

    if (ngx_array_init(&outcome->params, r->pool, 1,
                       sizeof(ngx_http_cwmp_param_t))
        != NGX_OK)
    {
        json_decref(res);
        return NGX_ERROR;
    }

    if (ngx_http_cwmp_task_json(r, res, &outcome->result) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


/* the compact JSON text of j, in the request's pool; j is released */

ngx_int_t
ngx_http_cwmp_task_json(ngx_http_request_t *r, json_t *j, ngx_str_t *out)
{
    char    *s;
    size_t   len;

    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);

    out->data = ngx_pnalloc(r->pool, len);
    if (out->data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, len);
    out->len = len;

    free(s);

    return NGX_OK;
}


static void
ngx_http_cwmp_task_json_cleanup(void *data)
{
    json_decref(data);
}


/* getParameterValues, getParameterAttributes: "parameterNames" */

static ngx_int_t
ngx_http_cwmp_build_names(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    u_char   buf[NGX_INT_T_LEN];
    json_t  *names, *v;
    size_t   i, n;

    names = json_object_get(task, "parameterNames");

    if (!json_is_array(names)) {
        x->error = "\"parameterNames\" must be an array of strings";
        return NGX_DECLINED;
    }

    n = json_array_size(names);

    if (n > NGX_HTTP_CWMP_MAX_NAMES) {
        x->error = "too many \"parameterNames\"";
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_raw(x, "<ParameterNames soap-enc:arrayType="
                             "\"xsd:string[");
    *ngx_sprintf(buf, "%uz", n) = '\0';
    ngx_http_cwmp_xml_raw(x, (char *) buf);
    ngx_http_cwmp_xml_raw(x, "]\">" CRLF);

    for (i = 0; i < n; i++) {
        v = json_array_get(names, i);

        if (!json_is_string(v)) {
            x->error = "\"parameterNames\" must be an array of strings";
            return NGX_DECLINED;
        }

        ngx_http_cwmp_xml_element(x, "string", json_string_value(v),
                                  json_string_length(v));
    }

    ngx_http_cwmp_xml_raw(x, "</ParameterNames>" CRLF);

    return NGX_OK;
}


/*
 * refreshObject: "objectName": every value of the subtree, one
 * GetParameterValues of its partial path; session_step.lua drops from the
 * cache what the subtree no longer has
 */

static ngx_int_t
ngx_http_cwmp_build_refresh(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    json_t  *name;

    name = ngx_http_cwmp_object_name(x, task);
    if (name == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_raw(x, "<ParameterNames soap-enc:arrayType="
                             "\"xsd:string[1]\">" CRLF);
    ngx_http_cwmp_xml_element(x, "string", json_string_value(name),
                              json_string_length(name));
    ngx_http_cwmp_xml_raw(x, "</ParameterNames>" CRLF);

    return NGX_OK;
}


/*
 * setParameterValues: "parameterValues": [[path, value, type?], ...].
 * Without a type: the parameter's cached type, else xsd:boolean for a
 * JSON boolean, xsd:int or xsd:unsignedInt for an integer, xsd:string.
 */

static ngx_int_t
ngx_http_cwmp_build_spv(ngx_http_cwmp_xml_t *x, json_t *task, ngx_str_t *id)
{
    u_char      buf[64];
    char       *type, *dm;
    json_t     *values, *pv, *name, *value, *t;
    size_t      i, n;
    ngx_str_t   text;

    values = json_object_get(task, "parameterValues");

    if (!json_is_array(values) || json_array_size(values) == 0) {
        x->error = "\"parameterValues\" must be a non-empty array of "
                   "[name, value, type]";
        return NGX_DECLINED;
    }

    n = json_array_size(values);

    if (n > NGX_HTTP_CWMP_MAX_NAMES) {
        x->error = "too many \"parameterValues\"";
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_raw(x, "<ParameterList soap-enc:arrayType="
                             "\"cwmp:ParameterValueStruct[");
    *ngx_sprintf(buf, "%uz", n) = '\0';
    ngx_http_cwmp_xml_raw(x, (char *) buf);
    ngx_http_cwmp_xml_raw(x, "]\">" CRLF);

    for (i = 0; i < n; i++) {
        pv = json_array_get(values, i);
        name = json_array_get(pv, 0);
        value = json_array_get(pv, 1);
        t = json_array_get(pv, 2);

        if (!json_is_array(pv) || !json_is_string(name)
            || !(json_is_string(value) || json_is_number(value)
                 || json_is_boolean(value))
            || (t && !json_is_string(t)))
        {
            x->error = "each of \"parameterValues\" must be [name, value] "
                       "or [name, value, type]: a string name, a string, "
                       "number or boolean value, a string type";
            return NGX_DECLINED;
        }

        if (json_is_string(value)) {
            text.data = (u_char *) json_string_value(value);
            text.len = json_string_length(value);
            type = "xsd:string";

        } else if (json_is_boolean(value)) {
            ngx_str_set(&text, "false");

            if (json_is_true(value)) {
                ngx_str_set(&text, "true");
            }

            type = "xsd:boolean";

        } else if (json_is_integer(value)) {
            text.data = buf;
            text.len = ngx_sprintf(buf, "%L",
                                   (int64_t) json_integer_value(value))
                       - buf;
            type = json_integer_value(value) < 0 ? "xsd:int"
                                                 : "xsd:unsignedInt";

        } else {
            x->error = "a parameter value may not be a fraction";
            return NGX_DECLINED;
        }

        /*
         * the type given, else the one cached, else the data model's,
         * else the value's kind
         */

        if (t) {
            type = (char *) json_string_value(t);

        } else if (json_is_string(json_object_get(x->types,
                                                  json_string_value(name))))
        {
            type = (char *) json_string_value(json_object_get(x->types,
                                                  json_string_value(name)));

        } else {
            dm = ngx_http_cwmp_datamodel_type(json_string_value(name),
                                              json_string_length(name));
            if (dm) {
                type = dm;
            }
        }

        ngx_http_cwmp_xml_raw(x, "<ParameterValueStruct>" CRLF);
        ngx_http_cwmp_xml_element(x, "Name", json_string_value(name),
                                  json_string_length(name));
        ngx_http_cwmp_xml_raw(x, "<Value xsi:type=\"");
        ngx_http_cwmp_xml_text(x, type, ngx_strlen(type));
        ngx_http_cwmp_xml_raw(x, "\">");
        ngx_http_cwmp_xml_text(x, (char *) text.data, text.len);
        ngx_http_cwmp_xml_raw(x, "</Value>" CRLF "</ParameterValueStruct>"
                                 CRLF);
    }

    ngx_http_cwmp_xml_raw(x, "</ParameterList>" CRLF);

    return ngx_http_cwmp_xml_parameter_key(x, task);
}


/* getParameterNames: "parameterPath", "nextLevel" (false by default) */

static ngx_int_t
ngx_http_cwmp_build_gpn(ngx_http_cwmp_xml_t *x, json_t *task, ngx_str_t *id)
{
    json_t  *next;

    if (ngx_http_cwmp_xml_string_arg(x, task, "parameterPath",
                                     "ParameterPath", 1)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    next = json_object_get(task, "nextLevel");

    if (next && !json_is_boolean(next)) {
        x->error = "\"nextLevel\" must be true or false";
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_raw(x, json_is_true(next)
                             ? "<NextLevel>true</NextLevel>" CRLF
                             : "<NextLevel>false</NextLevel>" CRLF);

    return NGX_OK;
}


/*
 * setParameterAttributes: "parameterAttributes": [{"name": ...,
 * "notification": 0-6, "accessList": ["Subscriber"]}]; what is absent is
 * left unchanged on the CPE.
 */

static ngx_int_t
ngx_http_cwmp_build_spa(ngx_http_cwmp_xml_t *x, json_t *task, ngx_str_t *id)
{
    u_char   buf[NGX_INT_T_LEN];
    json_t  *attrs, *a, *name, *notif, *acl, *v;
    size_t   i, j, n;

    attrs = json_object_get(task, "parameterAttributes");

    if (!json_is_array(attrs) || json_array_size(attrs) == 0
        || json_array_size(attrs) > NGX_HTTP_CWMP_MAX_NAMES)
    {
        x->error = "\"parameterAttributes\" must be a non-empty array of "
                   "{name, notification, accessList}";
        return NGX_DECLINED;
    }

    n = json_array_size(attrs);

    ngx_http_cwmp_xml_raw(x, "<ParameterList soap-enc:arrayType="
                             "\"cwmp:SetParameterAttributesStruct[");
    *ngx_sprintf(buf, "%uz", n) = '\0';
    ngx_http_cwmp_xml_raw(x, (char *) buf);
    ngx_http_cwmp_xml_raw(x, "]\">" CRLF);

    for (i = 0; i < n; i++) {
        a = json_array_get(attrs, i);
        name = json_object_get(a, "name");
        notif = json_object_get(a, "notification");
        acl = json_object_get(a, "accessList");

        if (!json_is_object(a) || !json_is_string(name)
            || (notif && !(json_is_integer(notif)
                           && json_integer_value(notif) >= 0
                           && json_integer_value(notif) <= 6))
            || (acl && !json_is_array(acl)))
        {
            x->error = "each of \"parameterAttributes\" must be {\"name\": "
                       "string, \"notification\": 0 to 6, \"accessList\": "
                       "[strings]}";
            return NGX_DECLINED;
        }

        ngx_http_cwmp_xml_raw(x, "<SetParameterAttributesStruct>" CRLF);
        ngx_http_cwmp_xml_element(x, "Name", json_string_value(name),
                                  json_string_length(name));

        *ngx_sprintf(buf, "%L", notif ? (int64_t) json_integer_value(notif)
                                      : (int64_t) 0) = '\0';

        ngx_http_cwmp_xml_raw(x, notif ? "<NotificationChange>true"
                                       : "<NotificationChange>false");
        ngx_http_cwmp_xml_raw(x, "</NotificationChange>" CRLF);
        ngx_http_cwmp_xml_element(x, "Notification", (char *) buf,
                                  ngx_strlen(buf));
        ngx_http_cwmp_xml_raw(x, acl ? "<AccessListChange>true"
                                     : "<AccessListChange>false");
        ngx_http_cwmp_xml_raw(x, "</AccessListChange>" CRLF);

        *ngx_sprintf(buf, "%uz", acl ? json_array_size(acl) : 0) = '\0';
        ngx_http_cwmp_xml_raw(x, "<AccessList soap-enc:arrayType="
                                 "\"xsd:string[");
        ngx_http_cwmp_xml_raw(x, (char *) buf);
        ngx_http_cwmp_xml_raw(x, "]\">");

        for (j = 0; acl && j < json_array_size(acl); j++) {
            v = json_array_get(acl, j);

            if (!json_is_string(v)) {
                x->error = "\"accessList\" must be an array of strings";
                return NGX_DECLINED;
            }

            ngx_http_cwmp_xml_element(x, "string", json_string_value(v),
                                      json_string_length(v));
        }

        ngx_http_cwmp_xml_raw(x, "</AccessList>" CRLF
                                 "</SetParameterAttributesStruct>" CRLF);
    }

    ngx_http_cwmp_xml_raw(x, "</ParameterList>" CRLF);

    return NGX_OK;
}


/* addObject, deleteObject: "objectName" ("...Object." or "...Object.3.") */

static ngx_int_t
ngx_http_cwmp_build_object(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    json_t  *name;

    name = ngx_http_cwmp_object_name(x, task);
    if (name == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_element(x, "ObjectName", json_string_value(name),
                              json_string_length(name));

    return ngx_http_cwmp_xml_parameter_key(x, task);
}


/* reboot: the task's id is the CommandKey ("M Reboot" reports it) */

static ngx_int_t
ngx_http_cwmp_build_command(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    ngx_http_cwmp_xml_element(x, "CommandKey", (char *) id->data,
                              ngx_min(id->len, NGX_HTTP_CWMP_COMMAND_KEY));

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_build_none(ngx_http_cwmp_xml_t *x, json_t *task, ngx_str_t *id)
{
    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_build_schedule_inform(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    if (ngx_http_cwmp_xml_uint_arg(x, task, "delaySeconds", "DelaySeconds", 1)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return ngx_http_cwmp_build_command(x, task, id);
}


/* download, upload: the arguments in the XSD's order */

static ngx_int_t
ngx_http_cwmp_build_transfer(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    ngx_uint_t  download;

    download = ngx_strcmp(json_string_value(json_object_get(task, "name")),
                          "download") == 0;

    if (ngx_http_cwmp_build_command(x, task, id) != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "fileType", "FileType", 1)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "url", "URL", 1) != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "username", "Username", 0)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "password", "Password", 0)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (!download) {
        return ngx_http_cwmp_xml_uint_arg(x, task, "delaySeconds",
                                          "DelaySeconds", 0);
    }

    if (ngx_http_cwmp_xml_uint_arg(x, task, "fileSize", "FileSize", 0)
        != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "targetFileName",
                                        "TargetFileName", 0)
           != NGX_OK
        || ngx_http_cwmp_xml_uint_arg(x, task, "delaySeconds",
                                      "DelaySeconds", 0)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "successURL", "SuccessURL",
                                        0)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "failureURL", "FailureURL",
                                        0)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_build_cancel(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    return ngx_http_cwmp_xml_string_arg(x, task, "commandKey", "CommandKey",
                                        1);
}


/*
 * scheduleDownload: the download arguments and "timeWindows": 1 or 2 of
 * {"windowStart", "windowEnd" (seconds from now), "windowMode" ("1 At Any
 * Time", ...), "userMessage"?, "maxRetries"?}
 */

static ngx_int_t
ngx_http_cwmp_build_schedule_download(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    u_char   buf[NGX_INT64_LEN + 1];
    json_t  *windows, *w, *retries;
    size_t   i, n;

    if (ngx_http_cwmp_build_command(x, task, id) != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "fileType", "FileType", 1)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "url", "URL", 1) != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "username", "Username", 0)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "password", "Password", 0)
           != NGX_OK
        || ngx_http_cwmp_xml_uint_arg(x, task, "fileSize", "FileSize", 0)
           != NGX_OK
        || ngx_http_cwmp_xml_string_arg(x, task, "targetFileName",
                                        "TargetFileName", 0)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    windows = json_object_get(task, "timeWindows");
    n = json_array_size(windows);

    if (!json_is_array(windows) || n < 1 || n > 2) {
        x->error = "\"timeWindows\" must be an array of 1 or 2 windows";
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_raw(x, n == 1 ? "<TimeWindowList soap-enc:arrayType="
                                      "\"cwmp:TimeWindowStruct[1]\">" CRLF
                                    : "<TimeWindowList soap-enc:arrayType="
                                      "\"cwmp:TimeWindowStruct[2]\">" CRLF);

    for (i = 0; i < n; i++) {
        w = json_array_get(windows, i);
        retries = json_object_get(w, "maxRetries");

        if (!json_is_object(w) || (retries && !json_is_integer(retries))) {
            x->error = "a time window must be {windowStart, windowEnd, "
                       "windowMode, userMessage?, maxRetries?}";
            return NGX_DECLINED;
        }

        ngx_http_cwmp_xml_raw(x, "<TimeWindowStruct>" CRLF);

        if (ngx_http_cwmp_xml_uint_arg(x, w, "windowStart", "WindowStart", 1)
            != NGX_OK
            || ngx_http_cwmp_xml_uint_arg(x, w, "windowEnd", "WindowEnd", 1)
               != NGX_OK
            || ngx_http_cwmp_xml_string_arg(x, w, "windowMode", "WindowMode",
                                            1)
               != NGX_OK
            || ngx_http_cwmp_xml_string_arg(x, w, "userMessage",
                                            "UserMessage", 0)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        *ngx_sprintf(buf, "%L", retries ? (int64_t) json_integer_value(retries)
                                        : (int64_t) -1) = '\0';
        ngx_http_cwmp_xml_element(x, "MaxRetries", (char *) buf,
                                  ngx_strlen(buf));

        ngx_http_cwmp_xml_raw(x, "</TimeWindowStruct>" CRLF);
    }

    ngx_http_cwmp_xml_raw(x, "</TimeWindowList>" CRLF);

    return NGX_OK;
}


/*
 * changeDUState: "operations": [{"type": "install", "url", "uuid"?,
 * "username"?, "password"?, "executionEnvRef"?} | {"type": "update",
 * "uuid"?, "version"?, "url"?, "username"?, "password"?} | {"type":
 * "uninstall", "uuid", "version"?, "executionEnvRef"?}]; the task id is
 * the CommandKey
 */

static ngx_int_t
ngx_http_cwmp_build_du_state(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    json_t      *ops, *op;
    size_t       i, n;
    ngx_int_t    rc;
    const char  *type;

    ops = json_object_get(task, "operations");
    n = json_array_size(ops);

    if (!json_is_array(ops) || n == 0 || n > NGX_HTTP_CWMP_MAX_NAMES) {
        x->error = "\"operations\" must be a non-empty array";
        return NGX_DECLINED;
    }

    for (i = 0; i < n; i++) {
        op = json_array_get(ops, i);
        type = json_string_value(json_object_get(op, "type"));

        if (type == NULL) {
            x->error = "each operation needs a \"type\": install, update or "
                       "uninstall";
            return NGX_DECLINED;
        }

        if (ngx_strcmp(type, "install") == 0) {
            ngx_http_cwmp_xml_raw(x, "<Operations xsi:type="
                                     "\"cwmp:InstallOpStruct\">" CRLF);
            rc = ngx_http_cwmp_xml_string_arg(x, op, "url", "URL", 1);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "uuid", "UUID", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "username",
                                                "Username", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "password",
                                                "Password", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "executionEnvRef",
                                                "ExecutionEnvRef", 0);

        } else if (ngx_strcmp(type, "update") == 0) {
            ngx_http_cwmp_xml_raw(x, "<Operations xsi:type="
                                     "\"cwmp:UpdateOpStruct\">" CRLF);
            rc = ngx_http_cwmp_xml_string_arg(x, op, "uuid", "UUID", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "version", "Version",
                                                0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "url", "URL", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "username",
                                                "Username", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "password",
                                                "Password", 0);

        } else if (ngx_strcmp(type, "uninstall") == 0) {
            ngx_http_cwmp_xml_raw(x, "<Operations xsi:type="
                                     "\"cwmp:UninstallOpStruct\">" CRLF);
            rc = ngx_http_cwmp_xml_string_arg(x, op, "uuid", "UUID", 1);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "version", "Version",
                                                0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_xml_string_arg(x, op, "executionEnvRef",
                                                "ExecutionEnvRef", 0);

        } else {
            x->error = "an operation's \"type\" is install, update or "
                       "uninstall";
            return NGX_DECLINED;
        }

        if (rc != NGX_OK) {
            return NGX_DECLINED;
        }

        ngx_http_cwmp_xml_raw(x, "</Operations>" CRLF);
    }

    return ngx_http_cwmp_build_command(x, task, id);
}


/* "objectName": an object path, ending in "." */

static json_t *
ngx_http_cwmp_object_name(ngx_http_cwmp_xml_t *x, json_t *task)
{
    json_t  *name;

    name = json_object_get(task, "objectName");

    if (!json_is_string(name) || json_string_length(name) == 0
        || json_string_value(name)[json_string_length(name) - 1] != '.')
    {
        x->error = "\"objectName\" must be an object path ending in \".\"";
        return NULL;
    }

    return name;
}


/* <element>string</element>; absent and not required: an empty one */

static ngx_int_t
ngx_http_cwmp_xml_string_arg(ngx_http_cwmp_xml_t *x, json_t *task,
    char *key, char *element, ngx_uint_t required)
{
    json_t  *v;

    v = json_object_get(task, key);

    if (v == NULL && !required) {
        ngx_http_cwmp_xml_element(x, element, "", 0);
        return NGX_OK;
    }

    if (!json_is_string(v) || (required && json_string_length(v) == 0)) {
        x->error = required ? "a required string argument is missing"
                            : "an argument must be a string";
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_element(x, element, json_string_value(v),
                              json_string_length(v));

    return NGX_OK;
}


/* <element>unsigned</element>; absent and not required: 0 */

static ngx_int_t
ngx_http_cwmp_xml_uint_arg(ngx_http_cwmp_xml_t *x, json_t *task, char *key,
    char *element, ngx_uint_t required)
{
    u_char     buf[NGX_INT64_LEN + 1];
    json_t    *v;
    json_int_t  n;

    v = json_object_get(task, key);

    if (v == NULL && !required) {
        n = 0;

    } else if (json_is_integer(v) && json_integer_value(v) >= 0
               && json_integer_value(v) <= 4294967295LL)
    {
        n = json_integer_value(v);

    } else {
        x->error = "an argument must be an unsigned integer";
        return NGX_DECLINED;
    }

    *ngx_sprintf(buf, "%L", (int64_t) n) = '\0';
    ngx_http_cwmp_xml_element(x, element, (char *) buf, ngx_strlen(buf));

    return NGX_OK;
}


static ngx_int_t
ngx_http_cwmp_xml_parameter_key(ngx_http_cwmp_xml_t *x, json_t *task)
{
    json_t  *v;

    v = json_object_get(task, "parameterKey");

    if (v && (!json_is_string(v) || json_string_length(v) > 32)) {
        x->error = "\"parameterKey\" must be a string of at most 32 "
                   "characters";
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_element(x, "ParameterKey",
                              v ? json_string_value(v) : "",
                              v ? json_string_length(v) : 0);

    return NGX_OK;
}


static void
ngx_http_cwmp_xml_element(ngx_http_cwmp_xml_t *x, char *name,
    const char *value, size_t len)
{
    ngx_http_cwmp_xml_raw(x, "<");
    ngx_http_cwmp_xml_raw(x, name);
    ngx_http_cwmp_xml_raw(x, ">");
    ngx_http_cwmp_xml_text(x, value, len);
    ngx_http_cwmp_xml_raw(x, "</");
    ngx_http_cwmp_xml_raw(x, name);
    ngx_http_cwmp_xml_raw(x, ">" CRLF);
}


static void
ngx_http_cwmp_xml_raw(ngx_http_cwmp_xml_t *x, char *s)
{
    size_t  len;

    len = ngx_strlen(s);

    if (ngx_http_cwmp_xml_grow(x, len) != NGX_OK) {
        return;
    }

    x->pos = ngx_cpymem(x->pos, s, len);
}


/* text from a task: escaped; a control character XML cannot carry fails */

static void
ngx_http_cwmp_xml_text(ngx_http_cwmp_xml_t *x, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((u_char) s[i] < 0x20 && s[i] != '\t' && s[i] != '\n'
            && s[i] != '\r')
        {
            x->error = "a string holds a control character XML cannot "
                       "carry";
            return;
        }
    }

    if (ngx_http_cwmp_xml_grow(x, len + ngx_escape_html(NULL, (u_char *) s,
                                                        len))
        != NGX_OK)
    {
        return;
    }

    x->pos = (u_char *) ngx_escape_html(x->pos, (u_char *) s, len);
}


static ngx_int_t
ngx_http_cwmp_xml_grow(ngx_http_cwmp_xml_t *x, size_t len)
{
    u_char  *p;
    size_t   size;

    if (x->nomem) {
        return NGX_ERROR;
    }

    if ((size_t) (x->end - x->pos) >= len) {
        return NGX_OK;
    }

    size = ngx_max((size_t) (x->end - x->start) * 2,
                   (size_t) (x->pos - x->start) + len + 1024);

    p = ngx_pnalloc(x->pool, size);
    if (p == NULL) {
        x->nomem = 1;
        return NGX_ERROR;
    }

    x->pos = x->start ? ngx_cpymem(p, x->start, x->pos - x->start) : p;
    x->start = p;
    x->end = p + size;

    return NGX_OK;
}


ngx_int_t
ngx_http_cwmp_task_outcome(ngx_http_request_t *r, ngx_http_cwmp_msg_t *msg,
    ngx_http_cwmp_outcome_t *outcome)
{
    json_t      *res, *v;
    ngx_int_t    rc;
    xmlNodePtr   rpc, detail, fault;

    ngx_memzero(outcome, sizeof(ngx_http_cwmp_outcome_t));

    if (ngx_array_init(&outcome->params, r->pool, 16,
                       sizeof(ngx_http_cwmp_param_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    res = json_object();
    if (res == NULL) {
        return NGX_ERROR;
    }

    rpc = msg->rpc;
    outcome->answer = msg->method;
    ngx_str_set(&outcome->status, "done");

    if (msg->type == NGX_HTTP_CWMP_MSG_FAULT) {
        ngx_str_set(&outcome->status, "fault");

        detail = ngx_http_cwmp_soap_arg(rpc, "detail");
        fault = detail ? ngx_http_cwmp_soap_arg(detail, "Fault") : NULL;

        rc = ngx_http_cwmp_outcome_fault(r, fault, res, outcome);

    } else if (ngx_strcmp(msg->method.data, "GetParameterValuesResponse")
               == 0)
    {
        rc = ngx_http_cwmp_outcome_values(r, rpc, res, outcome);

    } else if (ngx_strcmp(msg->method.data, "GetParameterNamesResponse")
               == 0)
    {
        rc = ngx_http_cwmp_outcome_names(r, rpc, res);

    } else if (ngx_strcmp(msg->method.data,
                          "GetParameterAttributesResponse") == 0)
    {
        rc = ngx_http_cwmp_outcome_attributes(r, rpc, res);

    } else if (ngx_strcmp(msg->method.data, "GetRPCMethodsResponse") == 0) {
        rc = ngx_http_cwmp_outcome_strings(r,
                 ngx_http_cwmp_soap_arg(rpc, "MethodList"), res, "methods");

    } else {
        /* Status, InstanceNumber, StartTime, CompleteTime, or nothing */
        rc = ngx_http_cwmp_outcome_fields(r, rpc, res);

        v = json_object_get(res, "status");

        /* SPV status 0: applied (1: applied once the CPE commits) */
        outcome->apply = (ngx_strcmp(msg->method.data,
                                     "SetParameterValuesResponse") == 0
                          && json_is_integer(v)
                          && json_integer_value(v) == 0)
                         || ngx_strcmp(msg->method.data,
                                       "DeleteObjectResponse") == 0;
    }

    if (rc != NGX_OK) {
        json_decref(res);
        return rc;
    }

    return ngx_http_cwmp_task_json(r, res, &outcome->result);
}


/*
 * {"faultCode": 9003, "faultString": "...", "setParameterValuesFault":
 * [{"parameterName": ..., "faultCode": ..., "faultString": ...}]}
 */

static ngx_int_t
ngx_http_cwmp_outcome_fault(ngx_http_request_t *r, xmlNodePtr fault,
    json_t *res, ngx_http_cwmp_outcome_t *outcome)
{
    json_t      *list, *f;
    xmlNodePtr   node;

    if (fault == NULL) {
        /* a SOAP Fault without a CWMP one */
        return json_object_set_new(res, "faultCode", json_null()) == 0
               ? NGX_OK : NGX_ERROR;
    }

    if (json_object_set_new(res, "faultCode", ngx_http_cwmp_json_number(r,
                                ngx_http_cwmp_soap_arg(fault, "FaultCode")))
        != 0
        || json_object_set_new(res, "faultString", ngx_http_cwmp_json_text(r,
                                ngx_http_cwmp_soap_arg(fault, "FaultString")))
           != 0)
    {
        return NGX_ERROR;
    }

    list = NULL;

    for (node = ngx_http_cwmp_soap_first(fault);
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        if (!ngx_http_cwmp_soap_is_arg(node, "SetParameterValuesFault")) {
            continue;
        }

        if (list == NULL) {
            list = json_array();
            if (list == NULL
                || json_object_set_new(res, "setParameterValuesFault", list)
                   != 0)
            {
                return NGX_ERROR;
            }
        }

        f = json_pack("{s:o,s:o,s:o}",
                "parameterName", ngx_http_cwmp_json_text(r,
                              ngx_http_cwmp_soap_arg(node, "ParameterName")),
                "faultCode", ngx_http_cwmp_json_number(r,
                              ngx_http_cwmp_soap_arg(node, "FaultCode")),
                "faultString", ngx_http_cwmp_json_text(r,
                              ngx_http_cwmp_soap_arg(node, "FaultString")));

        if (f == NULL || json_array_append_new(list, f) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* {"parameterValues": [[name, value, type], ...]}, and the cache */

static ngx_int_t
ngx_http_cwmp_outcome_values(ngx_http_request_t *r, xmlNodePtr rpc,
    json_t *res, ngx_http_cwmp_outcome_t *outcome)
{
    json_t                 *list, *pv;
    xmlNodePtr              node, name, value;
    ngx_http_cwmp_param_t  *p;

    list = json_array();
    if (list == NULL || json_object_set_new(res, "parameterValues", list)
                        != 0)
    {
        return NGX_ERROR;
    }

    node = ngx_http_cwmp_soap_arg(rpc, "ParameterList");

    for (node = node ? ngx_http_cwmp_soap_first(node) : NULL;
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        name = ngx_http_cwmp_soap_arg(node, "Name");
        value = ngx_http_cwmp_soap_arg(node, "Value");

        if (name == NULL || value == NULL) {
            continue;
        }

        p = ngx_array_push(&outcome->params);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(p, sizeof(ngx_http_cwmp_param_t));

        if (ngx_http_cwmp_soap_text(r->pool, name, &p->name, 1) != NGX_OK
            || ngx_http_cwmp_soap_text(r->pool, value, &p->value, 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_cwmp_soap_param_type(r->pool, value, &p->type)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        pv = json_pack("[s%s%s%]",
                       p->name.len ? (char *) p->name.data : "", p->name.len,
                       p->value.len ? (char *) p->value.data : "",
                       p->value.len,
                       p->type.len ? (char *) p->type.data : "",
                       p->type.len);

        if (pv == NULL || json_array_append_new(list, pv) != 0) {
            /* not UTF-8: libxml2 gives UTF-8, so out of memory */
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* {"parameters": [[name, writable], ...]} */

static ngx_int_t
ngx_http_cwmp_outcome_names(ngx_http_request_t *r, xmlNodePtr rpc,
    json_t *res)
{
    json_t      *list, *item;
    ngx_str_t    name, writable;
    xmlNodePtr   node, n;

    list = json_array();
    if (list == NULL || json_object_set_new(res, "parameters", list) != 0) {
        return NGX_ERROR;
    }

    node = ngx_http_cwmp_soap_arg(rpc, "ParameterList");

    for (node = node ? ngx_http_cwmp_soap_first(node) : NULL;
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        n = ngx_http_cwmp_soap_arg(node, "Name");
        if (n == NULL) {
            continue;
        }

        if (ngx_http_cwmp_soap_text(r->pool, n, &name, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_str_null(&writable);

        n = ngx_http_cwmp_soap_arg(node, "Writable");
        if (n && ngx_http_cwmp_soap_text(r->pool, n, &writable, 1) != NGX_OK)
        {
            return NGX_ERROR;
        }

        item = json_pack("[s%b]", name.len ? (char *) name.data : "",
                         name.len,
                         (int) ((writable.len == 1 && writable.data[0] == '1')
                                || (writable.len == 4
                                    && ngx_strncmp(writable.data, "true", 4)
                                       == 0)));

        if (item == NULL || json_array_append_new(list, item) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* {"parameterAttributes": [{name, notification, accessList}, ...]} */

static ngx_int_t
ngx_http_cwmp_outcome_attributes(ngx_http_request_t *r, xmlNodePtr rpc,
    json_t *res)
{
    json_t      *list, *item;
    xmlNodePtr   node;

    list = json_array();
    if (list == NULL
        || json_object_set_new(res, "parameterAttributes", list) != 0)
    {
        return NGX_ERROR;
    }

    node = ngx_http_cwmp_soap_arg(rpc, "ParameterList");

    for (node = node ? ngx_http_cwmp_soap_first(node) : NULL;
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        item = json_pack("{s:o,s:o}",
                 "name", ngx_http_cwmp_json_text(r,
                                   ngx_http_cwmp_soap_arg(node, "Name")),
                 "notification", ngx_http_cwmp_json_number(r,
                                   ngx_http_cwmp_soap_arg(node,
                                                          "Notification")));

        if (item == NULL
            || ngx_http_cwmp_outcome_strings(r,
                   ngx_http_cwmp_soap_arg(node, "AccessList"), item,
                   "accessList")
               != NGX_OK
            || json_array_append_new(list, item) != 0)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the simple answers: Status, InstanceNumber, StartTime, CompleteTime */

static ngx_int_t
ngx_http_cwmp_outcome_fields(ngx_http_request_t *r, xmlNodePtr rpc,
    json_t *res)
{
    xmlNodePtr  n;

    n = ngx_http_cwmp_soap_arg(rpc, "Status");
    if (n && json_object_set_new(res, "status",
                                 ngx_http_cwmp_json_number(r, n)) != 0)
    {
        return NGX_ERROR;
    }

    n = ngx_http_cwmp_soap_arg(rpc, "InstanceNumber");
    if (n && json_object_set_new(res, "instanceNumber",
                                 ngx_http_cwmp_json_number(r, n)) != 0)
    {
        return NGX_ERROR;
    }

    n = ngx_http_cwmp_soap_arg(rpc, "StartTime");
    if (n && json_object_set_new(res, "startTime",
                                 ngx_http_cwmp_json_text(r, n)) != 0)
    {
        return NGX_ERROR;
    }

    n = ngx_http_cwmp_soap_arg(rpc, "CompleteTime");
    if (n && json_object_set_new(res, "completeTime",
                                 ngx_http_cwmp_json_text(r, n)) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* {key: [strings]} from a list of <string> elements */

static ngx_int_t
ngx_http_cwmp_outcome_strings(ngx_http_request_t *r, xmlNodePtr list,
    json_t *res, char *key)
{
    json_t      *a;
    xmlNodePtr   node;

    a = json_array();
    if (a == NULL || json_object_set_new(res, key, a) != 0) {
        return NGX_ERROR;
    }

    for (node = list ? ngx_http_cwmp_soap_first(list) : NULL;
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        if (json_array_append_new(a, ngx_http_cwmp_json_text(r, node)) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* an element's text as a JSON string; null when absent */

static json_t *
ngx_http_cwmp_json_text(ngx_http_request_t *r, xmlNodePtr node)
{
    ngx_str_t  s;

    if (node == NULL
        || ngx_http_cwmp_soap_text(r->pool, node, &s, 1) != NGX_OK)
    {
        return json_null();
    }

    return json_stringn(s.len ? (char *) s.data : "", s.len);
}


/* an element's text as a JSON integer; its text when it is not one */

static json_t *
ngx_http_cwmp_json_number(ngx_http_request_t *r, xmlNodePtr node)
{
    ngx_int_t  n;
    ngx_str_t  s;

    if (node == NULL
        || ngx_http_cwmp_soap_text(r->pool, node, &s, 1) != NGX_OK)
    {
        return json_null();
    }

    n = ngx_atoi(s.data, s.len);

    if (n == NGX_ERROR) {
        return json_stringn(s.len ? (char *) s.data : "", s.len);
    }

    return json_integer(n);
}


ngx_int_t
ngx_http_cwmp_task_args(ngx_http_request_t *r, xmlNodePtr rpc,
    ngx_str_t *out)
{
    json_t  *j;

    j = ngx_http_cwmp_json_tree(r, rpc);

    if (!json_is_object(j)) {
        /* no arguments */
        json_decref(j);
        j = json_object();
        if (j == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_cwmp_task_json(r, j, out);
}


/*
 * An element as JSON: its text when it has no child elements, else an
 * object of its children by local name, a repeated name an array.  The
 * parser bounds the depth.
 */

static json_t *
ngx_http_cwmp_json_tree(ngx_http_request_t *r, xmlNodePtr node)
{
    json_t      *obj, *v, *prev, *list;
    xmlNodePtr   child;

    child = ngx_http_cwmp_soap_first(node);

    if (child == NULL) {
        return ngx_http_cwmp_json_text(r, node);
    }

    obj = json_object();
    if (obj == NULL) {
        return json_null();
    }

    for ( /* void */ ; child; child = ngx_http_cwmp_soap_next(child)) {
        v = ngx_http_cwmp_json_tree(r, child);
        prev = json_object_get(obj, (const char *) child->name);

        if (prev == NULL) {
            json_object_set_new(obj, (const char *) child->name, v);
            continue;
        }

        if (json_is_array(prev)) {
            json_array_append_new(prev, v);
            continue;
        }

        list = json_array();
        if (list == NULL) {
            json_decref(v);
            continue;
        }

        json_array_append(list, prev);
        json_array_append_new(list, v);
        json_object_set_new(obj, (const char *) child->name, list);
    }

    return obj;
}


/*
 * {"faultCode": 0, "faultString": "", "startTime": ..., "completeTime":
 * ...}: done with FaultCode 0, fault otherwise
 */

ngx_int_t
ngx_http_cwmp_task_transfer_complete(ngx_http_request_t *r, xmlNodePtr rpc,
    ngx_str_t *command_key, ngx_http_cwmp_outcome_t *outcome)
{
    json_t      *res, *code;
    xmlNodePtr   node, fault;

    ngx_memzero(outcome, sizeof(ngx_http_cwmp_outcome_t));

    node = ngx_http_cwmp_soap_arg(rpc, "CommandKey");

    if (node == NULL
        || ngx_http_cwmp_soap_text(r->pool, node, command_key, 1) != NGX_OK)
    {
        ngx_str_null(command_key);
    }

    fault = ngx_http_cwmp_soap_arg(rpc, "FaultStruct");

    code = ngx_http_cwmp_json_number(r, fault
                               ? ngx_http_cwmp_soap_arg(fault, "FaultCode")
                               : NULL);

    res = json_pack("{s:o,s:o,s:o,s:o}",
            "faultCode", code,
            "faultString", ngx_http_cwmp_json_text(r, fault
                               ? ngx_http_cwmp_soap_arg(fault, "FaultString")
                               : NULL),
            "startTime", ngx_http_cwmp_json_text(r,
                               ngx_http_cwmp_soap_arg(rpc, "StartTime")),
            "completeTime", ngx_http_cwmp_json_text(r,
                               ngx_http_cwmp_soap_arg(rpc, "CompleteTime")));
    if (res == NULL) {
        return NGX_ERROR;
    }

    if (json_is_integer(code) && json_integer_value(code) == 0) {
        ngx_str_set(&outcome->status, "done");

    } else {
        ngx_str_set(&outcome->status, "fault");
    }

    return ngx_http_cwmp_task_json(r, res, &outcome->result);
}


/*
 * The TR-098/TR-181 type of a parameter path when it is not a string:
 * instance numbers become {i}, then a binary search of the generated table.
 */

static char *
ngx_http_cwmp_datamodel_type(const char *path, size_t len)
{
    u_char                   *p, *seg, buf[2 * NGX_HTTP_CWMP_MAX_NAME];
    size_t                    n;
    ngx_int_t                 c;
    ngx_uint_t                lo, hi, mid, digits;
    const char               *s, *end;
    ngx_http_cwmp_dm_type_t  *e;

    p = buf;
    s = path;
    end = path + len;

    while (s < end) {
        seg = (u_char *) s;
        digits = 1;

        while (s < end && *s != '.') {
            if (*s < '0' || *s > '9') {
                digits = 0;
            }

            s++;
        }

        n = (u_char *) s - seg;

        if ((size_t) (p - buf) + ngx_max(n, 3) + 1 > sizeof(buf)) {
            return NULL;
        }

        if (digits && n) {
            p = ngx_cpymem(p, "{i}", 3);

        } else {
            p = ngx_cpymem(p, seg, n);
        }

        if (s < end) {
            *p++ = *s++;
        }
    }

    n = p - buf;
    lo = 0;
    hi = sizeof(ngx_http_cwmp_dm_types) / sizeof(ngx_http_cwmp_dm_types[0]);

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        e = &ngx_http_cwmp_dm_types[mid];

        c = ngx_memcmp(buf, e->path.data, ngx_min(n, e->path.len));

        if (c == 0) {
            c = (n > e->path.len) - (n < e->path.len);
        }

        if (c == 0) {
            return ngx_http_cwmp_dm_type_names[e->type];
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return NULL;
}
