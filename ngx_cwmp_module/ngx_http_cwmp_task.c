
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
#include <ngx_sha1.h>

#include <jansson.h>

#include "ngx_http_cwmp_scripts.h"
#include "ngx_http_cwmp_task.h"


#define NGX_HTTP_CWMP_MAX_NAMES    4096
#define NGX_HTTP_CWMP_COMMAND_KEY  32         /* CommandKey, XSD */


typedef struct {
    ngx_str_t                    path;          /* instances as {i} */
    ngx_uint_t                   type;
} ngx_http_cwmp_dm_type_t;


#include "ngx_http_cwmp_datamodel.h"


typedef ngx_int_t (*ngx_http_cwmp_build_pt)(ngx_http_cwmp_xml_t *x,
    json_t *task, ngx_str_t *id);


typedef struct {
    char                        *task;          /* the task's "name" */
    char                        *method;        /* the CWMP method */
    ngx_http_cwmp_build_pt       build;         /* its arguments */
    char                        *file_type;     /* the transfer's, always */
} ngx_http_cwmp_rpc_t;


static ngx_int_t ngx_http_cwmp_task_string(ngx_pool_t *pool, json_t *task,
    char *key, ngx_str_t *out);
static ngx_int_t ngx_http_cwmp_task_id(ngx_pool_t *pool, ngx_str_t *raw,
    json_t *task, ngx_str_t *id);
static ngx_int_t ngx_http_cwmp_task_failed(ngx_pool_t *pool, ngx_log_t *log,
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

static ngx_int_t ngx_http_cwmp_task_string_arg(ngx_http_cwmp_xml_t *x,
    json_t *task, char *key, char *element, ngx_uint_t required);
static ngx_int_t ngx_http_cwmp_task_uint_arg(ngx_http_cwmp_xml_t *x,
    json_t *task, char *key, char *element, ngx_uint_t required);
static ngx_int_t ngx_http_cwmp_task_parameter_key(ngx_http_cwmp_xml_t *x,
    json_t *task);
static json_t *ngx_http_cwmp_task_object_name(ngx_http_cwmp_xml_t *x,
    json_t *task);
static char *ngx_http_cwmp_datamodel_type(const char *path, size_t len);


static ngx_http_cwmp_rpc_t  ngx_http_cwmp_rpcs[] = {
    { "getParameterValues", "GetParameterValues",
      ngx_http_cwmp_build_names, NULL },
    { "refreshObject", "GetParameterValues",
      ngx_http_cwmp_build_refresh, NULL },
    { "setParameterValues", "SetParameterValues",
      ngx_http_cwmp_build_spv, NULL },
    { "getParameterNames", "GetParameterNames", ngx_http_cwmp_build_gpn, NULL },
    { "getParameterAttributes", "GetParameterAttributes",
      ngx_http_cwmp_build_names, NULL },
    { "setParameterAttributes", "SetParameterAttributes",
      ngx_http_cwmp_build_spa, NULL },
    { "addObject", "AddObject", ngx_http_cwmp_build_object, NULL },
    { "deleteObject", "DeleteObject", ngx_http_cwmp_build_object, NULL },
    { "reboot", "Reboot", ngx_http_cwmp_build_command, NULL },
    { "factoryReset", "FactoryReset", NULL, NULL },
    { "getRPCMethods", "GetRPCMethods", NULL, NULL },
    { "scheduleInform", "ScheduleInform",
      ngx_http_cwmp_build_schedule_inform, NULL },
    { "download", "Download", ngx_http_cwmp_build_transfer, NULL },
    { "upload", "Upload", ngx_http_cwmp_build_transfer, NULL },
    { "backupConfig", "Upload", ngx_http_cwmp_build_transfer,
      "1 Vendor Configuration File" },
    { "uploadLog", "Upload", ngx_http_cwmp_build_transfer,
      "2 Vendor Log File" },
    { "restoreConfig", "Download", ngx_http_cwmp_build_transfer,
      "3 Vendor Configuration File" },
    { "cancelTransfer", "CancelTransfer", ngx_http_cwmp_build_cancel, NULL },
    { "scheduleDownload", "ScheduleDownload",
      ngx_http_cwmp_build_schedule_download, NULL },
    { "changeDUState", "ChangeDUState", ngx_http_cwmp_build_du_state, NULL },
    { "getAllQueuedTransfers", "GetAllQueuedTransfers", NULL, NULL },
    { NULL, NULL, NULL, NULL }
};


ngx_int_t
ngx_http_cwmp_task_file(ngx_pool_t *pool, ngx_str_t *raw,
    ngx_http_cwmp_task_file_t *file)
{
    json_t      *task;
    ngx_str_t    id;
    ngx_int_t    rc;
    const char  *n;

    if (raw->len > NGX_HTTP_CWMP_MAX_TASK
        || (ngx_strlcasestrn(raw->data, raw->data + raw->len,
                             (u_char *) "\"file\"", 6 - 1) == NULL
            && ngx_strlcasestrn(raw->data, raw->data + raw->len,
                                (u_char *) "upload", 6 - 1) == NULL
            && ngx_strlcasestrn(raw->data, raw->data + raw->len,
                                (u_char *) "Config\"", 7 - 1) == NULL))
    {
        return NGX_DECLINED;
    }

    task = json_loadb((const char *) raw->data, raw->len, 0, NULL);
    if (task == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;
    n = json_string_value(json_object_get(task, "name"));

    if (n == NULL || !json_is_object(task)) {
        goto done;
    }

    if (ngx_strcmp(n, "download") == 0) {
        /* a stored file, named */

        if (json_object_get(task, "url") == NULL
            && json_is_string(json_object_get(task, "file")))
        {
            rc = ngx_http_cwmp_task_string(pool, task, "file", &file->name);
        }

    } else if (ngx_strcmp(n, "restoreConfig") == 0) {
        /* a backup: the one named, or the newest; the device's own or
         * the one "from" names */

        file->restore = 1;
        rc = ngx_http_cwmp_task_string(pool, task, "backup", &file->name);

        if (rc == NGX_OK) {
            rc = ngx_http_cwmp_task_string(pool, task, "from",
                                           &file->backup_of);
        }

    } else if ((ngx_strcmp(n, "upload") == 0
                || ngx_strcmp(n, "backupConfig") == 0
                || ngx_strcmp(n, "uploadLog") == 0)
               && json_object_get(task, "url") == NULL)
    {
        /* an upload to the ACS's own receiver, for the task */

        file->upload = 1;

        if (n[0] == 'b') {
            ngx_str_set(&file->kind, "backup");

        } else if (n[6] == 'L') {
            ngx_str_set(&file->kind, "log");
        }

        rc = ngx_http_cwmp_task_id(pool, raw, task, &id);

        if (rc == NGX_OK) {
            /* a copy: the JSON goes below */
            file->command_key.len = ngx_min(id.len,
                                            NGX_HTTP_CWMP_COMMAND_KEY);
            file->command_key.data = id.data;
            file->command_key.data = ngx_pstrdup(pool, &file->command_key);

            if (file->command_key.data == NULL) {
                rc = NGX_ERROR;
            }
        }
    }

done:

    json_decref(task);

    return rc;
}


/* a string member of the task, copied; absent or not a string: empty */

static ngx_int_t
ngx_http_cwmp_task_string(ngx_pool_t *pool, json_t *task, char *key,
    ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(task, key);

    if (!json_is_string(v)) {
        ngx_str_null(out);
        return NGX_OK;
    }

    out->len = json_string_length(v);
    out->data = ngx_pnalloc(pool, out->len + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, json_string_value(v), out->len + 1);

    return NGX_OK;
}


/*
 * A task's id: its "id", or the one session_step.lua derives, the first
 * 16 hex of its SHA1; NGX_DECLINED: an "id" that is not a string
 */

static ngx_int_t
ngx_http_cwmp_task_id(ngx_pool_t *pool, ngx_str_t *raw, json_t *task,
    ngx_str_t *id)
{
    u_char       digest[20];
    json_t      *v;
    ngx_sha1_t   sha1;

    v = json_object_get(task, "id");

    if (json_is_string(v) && json_string_length(v)) {
        id->data = (u_char *) json_string_value(v);
        id->len = json_string_length(v);
        return NGX_OK;
    }

    if (v != NULL && !json_is_string(v)) {
        return NGX_DECLINED;
    }

    id->data = ngx_pnalloc(pool, 40);
    if (id->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, raw->data, raw->len);
    ngx_sha1_final(digest, &sha1);

    ngx_hex_dump(id->data, digest, 20);
    id->len = NGX_HTTP_CWMP_TASK_ID_LEN;

    return NGX_OK;
}


ngx_int_t
ngx_http_cwmp_task_request(ngx_pool_t *pool, ngx_log_t *log, ngx_str_t *raw,
    ngx_str_t *types, ngx_http_cwmp_task_file_t *file, ngx_str_t *body,
    ngx_http_cwmp_outcome_t *outcome)
{
    json_t               *task, *v;
    ngx_int_t             rc;
    ngx_str_t             id;
    ngx_uint_t            i;
    const char           *name;
    json_error_t          err;
    ngx_pool_cleanup_t   *cln;
    ngx_http_cwmp_rpc_t  *rpc;
    ngx_http_cwmp_xml_t   x;

    if (raw->len > NGX_HTTP_CWMP_MAX_TASK) {
        return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                         "task too large", NULL);
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    task = json_loadb((const char *) raw->data, raw->len,
                      JSON_REJECT_DUPLICATES, &err);

    if (task == NULL) {
        return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                         "invalid JSON", err.text);
    }

    cln->handler = ngx_http_cwmp_task_json_cleanup;
    cln->data = task;

    if (!json_is_object(task)) {
        return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                         "a task is a JSON object", NULL);
    }

    /* its id, or the one session_step.lua derives: the CommandKey */

    rc = ngx_http_cwmp_task_id(pool, raw, task, &id);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                         "\"id\" must be a string", NULL);
    }

    v = json_object_get(task, "expiry");

    if (v != NULL) {
        if (!json_is_number(v)) {
            return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                             "\"expiry\" must be a number",
                                             NULL);
        }

        if (json_number_value(v) < (double) ngx_time()) {
            return ngx_http_cwmp_task_failed(pool, log, outcome, "expired",
                                             "expired before it could run",
                                             NULL);
        }
    }

    name = json_string_value(json_object_get(task, "name"));

    if (name == NULL) {
        return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
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
        return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                         "unknown task name", name);
    }

    /* backupConfig, uploadLog, restoreConfig: their file type */

    if (rpc->file_type
        && json_object_set_new(task, "fileType",
                               json_string(rpc->file_type)) != 0)
    {
        return NGX_ERROR;
    }

    /* a stored file: its signed URL and size, its type unless given; an
     * upload to the ACS: its signed URL */

    if (file && file->read) {
        if (file->error || (!file->upload && file->size.len == 0)) {
            return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                             "invalid arguments",
                                             file->error ? file->error
                                             : "no such \"file\" in the "
                                               "store");
        }

        if (json_object_set_new(task, "url",
                                json_stringn((char *) file->url.data,
                                             file->url.len)) != 0
            || (!file->upload
                && json_object_set_new(task, "fileSize",
                                       json_integer(ngx_atoof(file->size.data,
                                                          file->size.len)))
                   != 0)
            || (file->username.len
                && json_object_get(task, "username") == NULL
                && (json_object_set_new(task, "username",
                                        json_stringn((char *)
                                                     file->username.data,
                                                     file->username.len))
                    != 0
                    || json_object_set_new(task, "password",
                                           json_stringn((char *)
                                                        file->password.data,
                                                        file->password.len))
                       != 0))
            || (json_object_get(task, "fileType") == NULL
                && file->file_type.len
                && json_object_set_new(task, "fileType",
                                       json_stringn((char *)
                                                    file->file_type.data,
                                                    file->file_type.len))
                   != 0))
        {
            return NGX_ERROR;
        }
    }

    ngx_memzero(&x, sizeof(ngx_http_cwmp_xml_t));
    x.pool = pool;

    if (types && types->len > 2) {
        x.data = json_loadb((const char *) types->data, types->len, 0, &err);

        cln = ngx_pool_cleanup_add(pool, 0);
        if (cln == NULL) {
            json_decref(x.data);
            return NGX_ERROR;
        }

        cln->handler = ngx_http_cwmp_task_json_cleanup;
        cln->data = x.data;
    }

    ngx_http_cwmp_xml_literal(&x, "<cwmp:");
    ngx_http_cwmp_xml_raw(&x, rpc->method);

    if (rpc->build == NULL) {
        /* no arguments: an empty element, as the schema has it */
        ngx_http_cwmp_xml_literal(&x, "/>" CRLF);

    } else {
        ngx_http_cwmp_xml_literal(&x, ">" CRLF);

        if (rpc->build(&x, task, &id) != NGX_OK || x.error) {
            if (x.nomem) {
                return NGX_ERROR;
            }

            return ngx_http_cwmp_task_failed(pool, log, outcome, "fault",
                                             "invalid arguments", x.error);
        }

        ngx_http_cwmp_xml_literal(&x, "</cwmp:");
        ngx_http_cwmp_xml_raw(&x, rpc->method);
        ngx_http_cwmp_xml_literal(&x, ">" CRLF);
    }

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
ngx_http_cwmp_task_failed(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_cwmp_outcome_t *outcome, char *status, char *reason,
    const char *detail)
{
    json_t  *res;

    ngx_log_error(NGX_LOG_INFO, log, 0,
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

    if (ngx_array_init(&outcome->params, pool, 1,
                       sizeof(ngx_http_cwmp_param_t))
        != NGX_OK)
    {
        json_decref(res);
        return NGX_ERROR;
    }

    if (ngx_http_cwmp_task_json(pool, res, &outcome->result) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_DECLINED;
}


/* the compact JSON text of j, in the pool; j is released */

ngx_int_t
ngx_http_cwmp_task_json(ngx_pool_t *pool, json_t *j, ngx_str_t *out)
{
    char    *s;
    size_t   len;

    s = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);

    out->data = ngx_pnalloc(pool, len);
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

    ngx_http_cwmp_xml_literal(x, "<ParameterNames soap-enc:arrayType="
                                 "\"xsd:string[");
    *ngx_sprintf(buf, "%uz", n) = '\0';
    ngx_http_cwmp_xml_raw(x, (char *) buf);
    ngx_http_cwmp_xml_literal(x, "]\">" CRLF);

    for (i = 0; i < n; i++) {
        v = json_array_get(names, i);

        if (!json_is_string(v)) {
            x->error = "\"parameterNames\" must be an array of strings";
            return NGX_DECLINED;
        }

        ngx_http_cwmp_xml_element(x, "string", json_string_value(v),
                                  json_string_length(v));
    }

    ngx_http_cwmp_xml_literal(x, "</ParameterNames>" CRLF);

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

    name = ngx_http_cwmp_task_object_name(x, task);
    if (name == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_literal(x, "<ParameterNames soap-enc:arrayType="
                                 "\"xsd:string[1]\">" CRLF);
    ngx_http_cwmp_xml_element(x, "string", json_string_value(name),
                              json_string_length(name));
    ngx_http_cwmp_xml_literal(x, "</ParameterNames>" CRLF);

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

    ngx_http_cwmp_xml_literal(x, "<ParameterList soap-enc:arrayType="
                                 "\"cwmp:ParameterValueStruct[");
    *ngx_sprintf(buf, "%uz", n) = '\0';
    ngx_http_cwmp_xml_raw(x, (char *) buf);
    ngx_http_cwmp_xml_literal(x, "]\">" CRLF);

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

        } else if (json_is_string(json_object_get(x->data,
                                                  json_string_value(name))))
        {
            type = (char *) json_string_value(json_object_get(x->data,
                                                  json_string_value(name)));

        } else {
            dm = ngx_http_cwmp_datamodel_type(json_string_value(name),
                                              json_string_length(name));
            if (dm) {
                type = dm;
            }
        }

        ngx_http_cwmp_xml_literal(x, "<ParameterValueStruct>" CRLF);
        ngx_http_cwmp_xml_element(x, "Name", json_string_value(name),
                                  json_string_length(name));
        ngx_http_cwmp_xml_literal(x, "<Value xsi:type=\"");
        ngx_http_cwmp_xml_text(x, type, ngx_strlen(type));
        ngx_http_cwmp_xml_literal(x, "\">");
        ngx_http_cwmp_xml_text(x, (char *) text.data, text.len);
        ngx_http_cwmp_xml_literal(x, "</Value>" CRLF "</ParameterValueStruct>"
                                     CRLF);
    }

    ngx_http_cwmp_xml_literal(x, "</ParameterList>" CRLF);

    return ngx_http_cwmp_task_parameter_key(x, task);
}


/* getParameterNames: "parameterPath", "nextLevel" (false by default) */

static ngx_int_t
ngx_http_cwmp_build_gpn(ngx_http_cwmp_xml_t *x, json_t *task, ngx_str_t *id)
{
    json_t  *next;

    if (ngx_http_cwmp_task_string_arg(x, task, "parameterPath",
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

    ngx_http_cwmp_xml_literal(x, "<ParameterList soap-enc:arrayType="
                                 "\"cwmp:SetParameterAttributesStruct[");
    *ngx_sprintf(buf, "%uz", n) = '\0';
    ngx_http_cwmp_xml_raw(x, (char *) buf);
    ngx_http_cwmp_xml_literal(x, "]\">" CRLF);

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

        ngx_http_cwmp_xml_literal(x, "<SetParameterAttributesStruct>" CRLF);
        ngx_http_cwmp_xml_element(x, "Name", json_string_value(name),
                                  json_string_length(name));

        *ngx_sprintf(buf, "%L", notif ? (int64_t) json_integer_value(notif)
                                      : (int64_t) 0) = '\0';

        ngx_http_cwmp_xml_raw(x, notif ? "<NotificationChange>true"
                                       : "<NotificationChange>false");
        ngx_http_cwmp_xml_literal(x, "</NotificationChange>" CRLF);
        ngx_http_cwmp_xml_element(x, "Notification", (char *) buf,
                                  ngx_strlen(buf));
        ngx_http_cwmp_xml_raw(x, acl ? "<AccessListChange>true"
                                     : "<AccessListChange>false");
        ngx_http_cwmp_xml_literal(x, "</AccessListChange>" CRLF);

        *ngx_sprintf(buf, "%uz", acl ? json_array_size(acl) : 0) = '\0';
        ngx_http_cwmp_xml_literal(x, "<AccessList soap-enc:arrayType="
                                     "\"xsd:string[");
        ngx_http_cwmp_xml_raw(x, (char *) buf);
        ngx_http_cwmp_xml_literal(x, "]\">");

        for (j = 0; acl && j < json_array_size(acl); j++) {
            v = json_array_get(acl, j);

            if (!json_is_string(v)) {
                x->error = "\"accessList\" must be an array of strings";
                return NGX_DECLINED;
            }

            ngx_http_cwmp_xml_element(x, "string", json_string_value(v),
                                      json_string_length(v));
        }

        ngx_http_cwmp_xml_literal(x, "</AccessList>" CRLF
                                     "</SetParameterAttributesStruct>" CRLF);
    }

    ngx_http_cwmp_xml_literal(x, "</ParameterList>" CRLF);

    return NGX_OK;
}


/* addObject, deleteObject: "objectName" ("...Object." or "...Object.3.") */

static ngx_int_t
ngx_http_cwmp_build_object(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    json_t  *name;

    name = ngx_http_cwmp_task_object_name(x, task);
    if (name == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_cwmp_xml_element(x, "ObjectName", json_string_value(name),
                              json_string_length(name));

    return ngx_http_cwmp_task_parameter_key(x, task);
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
ngx_http_cwmp_build_schedule_inform(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    if (ngx_http_cwmp_task_uint_arg(x, task, "delaySeconds", "DelaySeconds", 1)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return ngx_http_cwmp_build_command(x, task, id);
}


/* download, upload (restoreConfig, backupConfig, uploadLog): the arguments
 * in the XSD's order */

static ngx_int_t
ngx_http_cwmp_build_transfer(ngx_http_cwmp_xml_t *x, json_t *task,
    ngx_str_t *id)
{
    const char  *name;
    ngx_uint_t   download;

    name = json_string_value(json_object_get(task, "name"));
    download = ngx_strcmp(name, "download") == 0
               || ngx_strcmp(name, "restoreConfig") == 0;

    if (ngx_http_cwmp_build_command(x, task, id) != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "fileType", "FileType", 1)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "url", "URL", 1) != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "username", "Username", 0)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "password", "Password", 0)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (!download) {
        return ngx_http_cwmp_task_uint_arg(x, task, "delaySeconds",
                                          "DelaySeconds", 0);
    }

    if (ngx_http_cwmp_task_uint_arg(x, task, "fileSize", "FileSize", 0)
        != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "targetFileName",
                                        "TargetFileName", 0)
           != NGX_OK
        || ngx_http_cwmp_task_uint_arg(x, task, "delaySeconds",
                                      "DelaySeconds", 0)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "successURL", "SuccessURL",
                                        0)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "failureURL", "FailureURL",
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
    return ngx_http_cwmp_task_string_arg(x, task, "commandKey", "CommandKey",
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
        || ngx_http_cwmp_task_string_arg(x, task, "fileType", "FileType", 1)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "url", "URL", 1) != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "username", "Username", 0)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "password", "Password", 0)
           != NGX_OK
        || ngx_http_cwmp_task_uint_arg(x, task, "fileSize", "FileSize", 0)
           != NGX_OK
        || ngx_http_cwmp_task_string_arg(x, task, "targetFileName",
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

        ngx_http_cwmp_xml_literal(x, "<TimeWindowStruct>" CRLF);

        if (ngx_http_cwmp_task_uint_arg(x, w, "windowStart", "WindowStart", 1)
            != NGX_OK
            || ngx_http_cwmp_task_uint_arg(x, w, "windowEnd", "WindowEnd", 1)
               != NGX_OK
            || ngx_http_cwmp_task_string_arg(x, w, "windowMode", "WindowMode",
                                            1)
               != NGX_OK
            || ngx_http_cwmp_task_string_arg(x, w, "userMessage",
                                            "UserMessage", 0)
               != NGX_OK)
        {
            return NGX_DECLINED;
        }

        *ngx_sprintf(buf, "%L", retries ? (int64_t) json_integer_value(retries)
                                        : (int64_t) -1) = '\0';
        ngx_http_cwmp_xml_element(x, "MaxRetries", (char *) buf,
                                  ngx_strlen(buf));

        ngx_http_cwmp_xml_literal(x, "</TimeWindowStruct>" CRLF);
    }

    ngx_http_cwmp_xml_literal(x, "</TimeWindowList>" CRLF);

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
            ngx_http_cwmp_xml_literal(x, "<Operations xsi:type="
                                         "\"cwmp:InstallOpStruct\">" CRLF);
            rc = ngx_http_cwmp_task_string_arg(x, op, "url", "URL", 1);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "uuid", "UUID", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "username",
                                                "Username", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "password",
                                                "Password", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "executionEnvRef",
                                                "ExecutionEnvRef", 0);

        } else if (ngx_strcmp(type, "update") == 0) {
            ngx_http_cwmp_xml_literal(x, "<Operations xsi:type="
                                         "\"cwmp:UpdateOpStruct\">" CRLF);
            rc = ngx_http_cwmp_task_string_arg(x, op, "uuid", "UUID", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "version", "Version",
                                                0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "url", "URL", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "username",
                                                "Username", 0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "password",
                                                "Password", 0);

        } else if (ngx_strcmp(type, "uninstall") == 0) {
            ngx_http_cwmp_xml_literal(x, "<Operations xsi:type="
                                         "\"cwmp:UninstallOpStruct\">" CRLF);
            rc = ngx_http_cwmp_task_string_arg(x, op, "uuid", "UUID", 1);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "version", "Version",
                                                0);
            rc = rc != NGX_OK ? rc
                 : ngx_http_cwmp_task_string_arg(x, op, "executionEnvRef",
                                                "ExecutionEnvRef", 0);

        } else {
            x->error = "an operation's \"type\" is install, update or "
                       "uninstall";
            return NGX_DECLINED;
        }

        if (rc != NGX_OK) {
            return NGX_DECLINED;
        }

        ngx_http_cwmp_xml_literal(x, "</Operations>" CRLF);
    }

    return ngx_http_cwmp_build_command(x, task, id);
}


/* "objectName": an object path, ending in "." */

static json_t *
ngx_http_cwmp_task_object_name(ngx_http_cwmp_xml_t *x, json_t *task)
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
ngx_http_cwmp_task_string_arg(ngx_http_cwmp_xml_t *x, json_t *task,
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
ngx_http_cwmp_task_uint_arg(ngx_http_cwmp_xml_t *x, json_t *task, char *key,
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
ngx_http_cwmp_task_parameter_key(ngx_http_cwmp_xml_t *x, json_t *task)
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
