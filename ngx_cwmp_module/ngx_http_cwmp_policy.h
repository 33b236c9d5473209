
/*
 * Copyright (C) ngx_cwmp authors
 *
 * Declarative policies ("cwmp_policy name { ... }" in http{}): compiled at
 * configuration time, evaluated against what Redis holds of a device into
 * the tasks that bring it to the declared state.  No I/O.
 */


#ifndef _NGX_HTTP_CWMP_POLICY_H_INCLUDED_
#define _NGX_HTTP_CWMP_POLICY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_store.h"


/* evaluations in one session at most: the loop guard */
#define NGX_HTTP_CWMP_POLICY_ROUNDS  4


typedef struct ngx_http_cwmp_policy_s  ngx_http_cwmp_policy_t;


typedef struct {
    ngx_array_t                  policies;      /* ngx_http_cwmp_policy_t * */
    ngx_array_t                  wanted;        /* ngx_str_t: cached values
                                                   the policies read */
    ngx_array_t                  campaigns;     /* ngx_str_t: names of the
                                                   policies with rollout
                                                   limits */
    ngx_array_t                  objects;       /* ngx_str_t: objects whose
                                                   cached instances the
                                                   policies read */
    time_t                       backoff_cap;
    ngx_uint_t                   tags;          /* a policy reads tags */
} ngx_http_cwmp_policies_t;


char *ngx_http_cwmp_policy_block(ngx_conf_t *cf,
    ngx_http_cwmp_policies_t *policies);

/*
 * The wanted values and objects (indexes) of the policies a device's
 * Inform leaves in play: only those are read from Redis at the Inform.
 */
ngx_int_t ngx_http_cwmp_policy_candidates(ngx_http_request_t *r,
    ngx_http_cwmp_policies_t *policies, ngx_str_t *device,
    ngx_str_t *device_id, ngx_array_t *index, ngx_array_t *objects);

/*
 * The tasks the policies in force want for a device (a JSON array, "[]"
 * when none) and the operations on its tags, policy state and campaigns
 * (a JSON array of arrays), in session_step.lua's terms.
 */
ngx_int_t ngx_http_cwmp_policy_plan(ngx_http_request_t *r,
    ngx_http_cwmp_policies_t *policies, ngx_http_cwmp_store_inputs_t *in,
    ngx_str_t *device_id, ngx_str_t *plan, ngx_str_t *ops);


#endif /* _NGX_HTTP_CWMP_POLICY_H_INCLUDED_ */
