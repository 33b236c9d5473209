
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The CPE's answers to ACS requests as outcomes: a response or a SOAP
 * Fault turned into a task's result (JSON, GenieACS's vocabulary), the
 * parameter values it reports for the cache, and whether the task's own
 * writes took effect; TransferComplete as the result of the transfer it
 * reports; a CPE request's arguments as JSON.  No I/O: a pool.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_cwmp_outcome.h"
#include "ngx_http_cwmp_metrics.h"


static ngx_int_t ngx_http_cwmp_outcome_fault(ngx_pool_t *pool,
    xmlNodePtr fault, json_t *res, ngx_http_cwmp_outcome_t *outcome);
static ngx_int_t ngx_http_cwmp_outcome_values(ngx_pool_t *pool,
    xmlNodePtr rpc, json_t *res, ngx_http_cwmp_outcome_t *outcome);
static ngx_int_t ngx_http_cwmp_outcome_names(ngx_pool_t *pool,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_attributes(ngx_pool_t *pool,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_transfers(ngx_pool_t *pool,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_fields(ngx_pool_t *pool,
    xmlNodePtr rpc, json_t *res);
static ngx_int_t ngx_http_cwmp_outcome_strings(ngx_pool_t *pool,
    xmlNodePtr list, json_t *res, char *key);
static ngx_uint_t ngx_http_cwmp_xsd_true(ngx_str_t *v);
static json_t *ngx_http_cwmp_json_text(ngx_pool_t *pool, xmlNodePtr node);
static json_t *ngx_http_cwmp_json_number(ngx_pool_t *pool, xmlNodePtr node);
static json_t *ngx_http_cwmp_json_tree(ngx_pool_t *pool, xmlNodePtr node);


ngx_int_t
ngx_http_cwmp_outcome_read(ngx_pool_t *pool, ngx_http_cwmp_msg_t *msg,
    ngx_http_cwmp_outcome_t *outcome)
{
    json_t      *res, *v;
    ngx_int_t    rc;
    xmlNodePtr   rpc, detail, fault;

    ngx_memzero(outcome, sizeof(ngx_http_cwmp_outcome_t));

    if (ngx_array_init(&outcome->params, pool, 16,
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

        rc = ngx_http_cwmp_outcome_fault(pool, fault, res, outcome);

    } else if (ngx_strcmp(msg->method.data, "GetParameterValuesResponse")
               == 0)
    {
        rc = ngx_http_cwmp_outcome_values(pool, rpc, res, outcome);

    } else if (ngx_strcmp(msg->method.data, "GetParameterNamesResponse")
               == 0)
    {
        rc = ngx_http_cwmp_outcome_names(pool, rpc, res);

    } else if (ngx_strcmp(msg->method.data,
                          "GetParameterAttributesResponse") == 0)
    {
        rc = ngx_http_cwmp_outcome_attributes(pool, rpc, res);

    } else if (ngx_strcmp(msg->method.data,
                          "GetAllQueuedTransfersResponse") == 0)
    {
        rc = ngx_http_cwmp_outcome_transfers(pool, rpc, res);

    } else if (ngx_strcmp(msg->method.data, "GetRPCMethodsResponse") == 0) {
        rc = ngx_http_cwmp_outcome_strings(pool,
                 ngx_http_cwmp_soap_arg(rpc, "MethodList"), res, "methods");

    } else {
        /* Status, InstanceNumber, StartTime, CompleteTime, or nothing */
        rc = ngx_http_cwmp_outcome_fields(pool, rpc, res);

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

    return ngx_http_cwmp_task_json(pool, res, &outcome->result);
}


/*
 * {"faultCode": 9003, "faultString": "...", "setParameterValuesFault":
 * [{"parameterName": ..., "faultCode": ..., "faultString": ...}]}
 */

static ngx_int_t
ngx_http_cwmp_outcome_fault(ngx_pool_t *pool, xmlNodePtr fault,
    json_t *res, ngx_http_cwmp_outcome_t *outcome)
{
    json_t      *list, *f;
    xmlNodePtr   node;

    if (fault == NULL) {
        /* a SOAP Fault without a CWMP one */
        return json_object_set_new(res, "faultCode", json_null()) == 0
               ? NGX_OK : NGX_ERROR;
    }

    if (json_object_set_new(res, "faultCode", ngx_http_cwmp_json_number(pool,
                                ngx_http_cwmp_soap_arg(fault, "FaultCode")))
        != 0
        || json_object_set_new(res, "faultString", ngx_http_cwmp_json_text(pool,
                                ngx_http_cwmp_soap_arg(fault, "FaultString")))
           != 0)
    {
        return NGX_ERROR;
    }

    ngx_http_cwmp_metric_fault((ngx_int_t) json_integer_value(
                                   json_object_get(res, "faultCode")));

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
                "parameterName", ngx_http_cwmp_json_text(pool,
                              ngx_http_cwmp_soap_arg(node, "ParameterName")),
                "faultCode", ngx_http_cwmp_json_number(pool,
                              ngx_http_cwmp_soap_arg(node, "FaultCode")),
                "faultString", ngx_http_cwmp_json_text(pool,
                              ngx_http_cwmp_soap_arg(node, "FaultString")));

        if (f == NULL || json_array_append_new(list, f) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* {"parameterValues": [[name, value, type], ...]}, and the cache */

static ngx_int_t
ngx_http_cwmp_outcome_values(ngx_pool_t *pool, xmlNodePtr rpc,
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

        if (ngx_http_cwmp_soap_text(pool, name, &p->name, 1) != NGX_OK
            || ngx_http_cwmp_soap_text(pool, value, &p->value, 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_cwmp_soap_param_type(pool, value, &p->type)
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
ngx_http_cwmp_outcome_names(ngx_pool_t *pool, xmlNodePtr rpc,
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

        if (ngx_http_cwmp_soap_text(pool, n, &name, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_str_null(&writable);

        n = ngx_http_cwmp_soap_arg(node, "Writable");
        if (n && ngx_http_cwmp_soap_text(pool, n, &writable, 1) != NGX_OK)
        {
            return NGX_ERROR;
        }

        item = json_pack("[s%b]", name.len ? (char *) name.data : "",
                         name.len, (int) ngx_http_cwmp_xsd_true(&writable));

        if (item == NULL || json_array_append_new(list, item) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* {"parameterAttributes": [{name, notification, accessList}, ...]} */

static ngx_int_t
ngx_http_cwmp_outcome_attributes(ngx_pool_t *pool, xmlNodePtr rpc,
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
                 "name", ngx_http_cwmp_json_text(pool,
                                   ngx_http_cwmp_soap_arg(node, "Name")),
                 "notification", ngx_http_cwmp_json_number(pool,
                                   ngx_http_cwmp_soap_arg(node,
                                                          "Notification")));

        if (item == NULL
            || ngx_http_cwmp_outcome_strings(pool,
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


/*
 * {"transferList": [{commandKey, state, isDownload, fileType, fileSize,
 * targetFileName}, ...]}: state 1 not yet started, 2 in progress, 3 done
 */

static ngx_int_t
ngx_http_cwmp_outcome_transfers(ngx_pool_t *pool, xmlNodePtr rpc,
    json_t *res)
{
    json_t      *list, *item;
    ngx_str_t    down;
    xmlNodePtr   node, n;

    list = json_array();
    if (list == NULL || json_object_set_new(res, "transferList", list) != 0)
    {
        return NGX_ERROR;
    }

    node = ngx_http_cwmp_soap_arg(rpc, "TransferList");

    for (node = node ? ngx_http_cwmp_soap_first(node) : NULL;
         node;
         node = ngx_http_cwmp_soap_next(node))
    {
        ngx_str_null(&down);

        n = ngx_http_cwmp_soap_arg(node, "IsDownload");
        if (n && ngx_http_cwmp_soap_text(pool, n, &down, 1) != NGX_OK) {
            return NGX_ERROR;
        }

        item = json_pack("{s:o,s:o,s:b,s:o,s:o,s:o}",
                 "commandKey", ngx_http_cwmp_json_text(pool,
                                   ngx_http_cwmp_soap_arg(node, "CommandKey")),
                 "state", ngx_http_cwmp_json_number(pool,
                                   ngx_http_cwmp_soap_arg(node, "State")),
                 "isDownload", (int) ngx_http_cwmp_xsd_true(&down),
                 "fileType", ngx_http_cwmp_json_text(pool,
                                   ngx_http_cwmp_soap_arg(node, "FileType")),
                 "fileSize", ngx_http_cwmp_json_number(pool,
                                   ngx_http_cwmp_soap_arg(node, "FileSize")),
                 "targetFileName", ngx_http_cwmp_json_text(pool,
                                   ngx_http_cwmp_soap_arg(node,
                                                          "TargetFileName")));

        if (item == NULL || json_array_append_new(list, item) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the simple answers: Status, InstanceNumber, StartTime, CompleteTime */

static ngx_int_t
ngx_http_cwmp_outcome_fields(ngx_pool_t *pool, xmlNodePtr rpc,
    json_t *res)
{
    xmlNodePtr  n;

    n = ngx_http_cwmp_soap_arg(rpc, "Status");
    if (n && json_object_set_new(res, "status",
                                 ngx_http_cwmp_json_number(pool, n)) != 0)
    {
        return NGX_ERROR;
    }

    n = ngx_http_cwmp_soap_arg(rpc, "InstanceNumber");
    if (n && json_object_set_new(res, "instanceNumber",
                                 ngx_http_cwmp_json_number(pool, n)) != 0)
    {
        return NGX_ERROR;
    }

    n = ngx_http_cwmp_soap_arg(rpc, "StartTime");
    if (n && json_object_set_new(res, "startTime",
                                 ngx_http_cwmp_json_text(pool, n)) != 0)
    {
        return NGX_ERROR;
    }

    n = ngx_http_cwmp_soap_arg(rpc, "CompleteTime");
    if (n && json_object_set_new(res, "completeTime",
                                 ngx_http_cwmp_json_text(pool, n)) != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* {key: [strings]} from a list of <string> elements */

static ngx_int_t
ngx_http_cwmp_outcome_strings(ngx_pool_t *pool, xmlNodePtr list,
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
        if (json_array_append_new(a, ngx_http_cwmp_json_text(pool, node))
            != 0)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* an xsd:boolean's text: "1" or "true" */

static ngx_uint_t
ngx_http_cwmp_xsd_true(ngx_str_t *v)
{
    return (v->len == 1 && v->data[0] == '1')
           || (v->len == 4 && ngx_strncmp(v->data, "true", 4) == 0);
}


/* an element's text as a JSON string; null when absent */

static json_t *
ngx_http_cwmp_json_text(ngx_pool_t *pool, xmlNodePtr node)
{
    ngx_str_t  s;

    if (node == NULL
        || ngx_http_cwmp_soap_text(pool, node, &s, 1) != NGX_OK)
    {
        return json_null();
    }

    return json_stringn(s.len ? (char *) s.data : "", s.len);
}


/* an element's text as a JSON integer; its text when it is not one */

static json_t *
ngx_http_cwmp_json_number(ngx_pool_t *pool, xmlNodePtr node)
{
    ngx_int_t  n;
    ngx_str_t  s;

    if (node == NULL
        || ngx_http_cwmp_soap_text(pool, node, &s, 1) != NGX_OK)
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
ngx_http_cwmp_outcome_args(ngx_pool_t *pool, xmlNodePtr rpc,
    ngx_str_t *out)
{
    json_t  *j;

    j = ngx_http_cwmp_json_tree(pool, rpc);

    if (!json_is_object(j)) {
        /* no arguments */
        json_decref(j);
        j = json_object();
        if (j == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_cwmp_task_json(pool, j, out);
}


/*
 * An element as JSON: its text when it has no child elements, else an
 * object of its children by local name, a repeated name an array.  The
 * parser bounds the depth.
 */

static json_t *
ngx_http_cwmp_json_tree(ngx_pool_t *pool, xmlNodePtr node)
{
    json_t      *obj, *v, *prev, *list;
    xmlNodePtr   child;

    child = ngx_http_cwmp_soap_first(node);

    if (child == NULL) {
        return ngx_http_cwmp_json_text(pool, node);
    }

    obj = json_object();
    if (obj == NULL) {
        return json_null();
    }

    for ( /* void */ ; child; child = ngx_http_cwmp_soap_next(child)) {
        v = ngx_http_cwmp_json_tree(pool, child);
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
ngx_http_cwmp_outcome_transfer(ngx_pool_t *pool, xmlNodePtr rpc,
    ngx_str_t *command_key, ngx_http_cwmp_outcome_t *outcome)
{
    json_t      *res, *code;
    xmlNodePtr   node, fault;

    ngx_memzero(outcome, sizeof(ngx_http_cwmp_outcome_t));

    node = ngx_http_cwmp_soap_arg(rpc, "CommandKey");

    if (node == NULL
        || ngx_http_cwmp_soap_text(pool, node, command_key, 1) != NGX_OK)
    {
        ngx_str_null(command_key);
    }

    fault = ngx_http_cwmp_soap_arg(rpc, "FaultStruct");

    code = ngx_http_cwmp_json_number(pool, fault
                               ? ngx_http_cwmp_soap_arg(fault, "FaultCode")
                               : NULL);

    res = json_pack("{s:o,s:o,s:o,s:o}",
            "faultCode", code,
            "faultString", ngx_http_cwmp_json_text(pool, fault
                               ? ngx_http_cwmp_soap_arg(fault, "FaultString")
                               : NULL),
            "startTime", ngx_http_cwmp_json_text(pool,
                               ngx_http_cwmp_soap_arg(rpc, "StartTime")),
            "completeTime", ngx_http_cwmp_json_text(pool,
                               ngx_http_cwmp_soap_arg(rpc, "CompleteTime")));
    if (res == NULL) {
        return NGX_ERROR;
    }

    if (json_is_integer(code) && json_integer_value(code) == 0) {
        ngx_str_set(&outcome->status, "done");

    } else {
        ngx_str_set(&outcome->status, "fault");
    }

    return ngx_http_cwmp_task_json(pool, res, &outcome->result);
}
