
/*
 * Copyright (C) ngx_cwmp authors
 *
 * What the policies' evaluation (ngx_http_cwmp_policy_eval.c) shares with
 * the evaluation of each action (ngx_http_cwmp_policy_action.c).
 */


#ifndef _NGX_HTTP_CWMP_POLICY_EVAL_H_INCLUDED_
#define _NGX_HTTP_CWMP_POLICY_EVAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include <jansson.h>

#include "ngx_http_cwmp_policy.h"


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


typedef struct {
    ngx_pool_t                  *pool;
    ngx_log_t                   *log;
    ngx_http_cwmp_policies_t    *policies;
    ngx_http_cwmp_store_inputs_t *in;
    ngx_str_t                   *device_id;
    time_t                       now;
    json_t                      *classes[NGX_HTTP_CWMP_CLASSES];
    json_t                      *ops;
} ngx_http_cwmp_eval_t;


/* one policy's evaluation: what its actions collect for one RPC each */

typedef struct {
    ngx_http_cwmp_policy_t      *policy;
    ngx_uint_t                   d181;          /* a TR-181 device */
    json_t                      *reads;         /* names to read */
    json_t                      *sets;          /* [path, value, type?] */
    json_t                      *attrs;         /* attributes to set */
    json_t                      *marks;         /* and their marks */
    json_t                      *later;         /* [class, task]: downloads
                                                   and reboots, after the
                                                   values */
    ngx_uint_t                   ntasks;
    ngx_uint_t                   waiting;       /* a transfer, a back-off,
                                                   a value not known */
    ngx_uint_t                   pending;       /* an object read first */
} ngx_http_cwmp_run_t;


typedef ngx_int_t (*ngx_http_cwmp_action_pt)(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);


/* the actions, by type */
ngx_int_t ngx_http_cwmp_policy_xmpp(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_value(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_refresh(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_notification(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_tag(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_reboot(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_credentials(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_objects(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_firmware(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);
ngx_int_t ngx_http_cwmp_policy_backup(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, ngx_http_cwmp_action_t *a);

/* what the actions build with */
ngx_int_t ngx_http_cwmp_policy_plan_task(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, json_t *t, ngx_http_cwmp_class_e class,
    const char *prefix, ngx_str_t *name, json_t *value);
ngx_int_t ngx_http_cwmp_policy_later(ngx_http_cwmp_eval_t *ev,
    ngx_http_cwmp_run_t *run, json_t *t, ngx_http_cwmp_class_e class,
    const char *prefix, json_t *value);
ngx_int_t ngx_http_cwmp_policy_marked(ngx_http_cwmp_eval_t *ev, json_t *t,
    const char *prefix, ngx_str_t *name, json_t *value);
ngx_int_t ngx_http_cwmp_policy_mark(ngx_http_cwmp_eval_t *ev, json_t *marks,
    const char *prefix, ngx_str_t *name, json_t *value);
ngx_int_t ngx_http_cwmp_policy_push(json_t **list, json_t *item);
json_t *ngx_http_cwmp_policy_task(ngx_http_cwmp_policy_t *p,
    const char *name);
json_t *ngx_http_cwmp_policy_rules(ngx_http_cwmp_policy_t *p);
ngx_int_t ngx_http_cwmp_policy_expand(ngx_http_cwmp_eval_t *ev,
    ngx_array_t *parts, ngx_str_t *out);
ngx_str_t *ngx_http_cwmp_policy_state(ngx_http_cwmp_eval_t *ev,
    const char *prefix, ngx_str_t *name);
ngx_uint_t ngx_http_cwmp_policy_has(ngx_array_t *list, ngx_str_t *s);
json_t *ngx_http_cwmp_policy_str(ngx_str_t *s);


#endif /* _NGX_HTTP_CWMP_POLICY_EVAL_H_INCLUDED_ */
