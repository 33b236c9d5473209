
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The CWMP session state machine: an Inform opens the device's session
 * (InformResponse); the CPE's requests are answered; its empty POST
 * begins the ACS turn, one task at a time (queued ones, then what the
 * policies want), each CPE answer stored before the next request, until
 * nothing is left (204).  Every step is one Redis round trip.
 */


#ifndef _NGX_HTTP_CWMP_SESSION_H_INCLUDED_
#define _NGX_HTTP_CWMP_SESSION_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_access.h"
#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_store.h"
#include "ngx_http_cwmp_task.h"
#include "ngx_http_cwmp_util.h"


/* a request of the module: the message, the session, the ACS turn */

typedef struct {
    ngx_http_cwmp_msg_t          msg;
    ngx_str_t                    device_id;
    ngx_str_t                    token;
    u_char                       token_data[NGX_HTTP_CWMP_TOKEN_LEN];
    ngx_uint_t                   candidate;     /* which of the sessions
                                                   the request carries */
    ngx_http_cwmp_store_owner_t  owner;         /* the store's calls */
    ngx_http_cwmp_store_inform_t *inform;       /* the Inform's store */

    /* the ACS turn */
    ngx_http_cwmp_store_step_t   step;
    ngx_http_cwmp_store_turn_t   turn;
    ngx_http_cwmp_outcome_t      outcome;
    u_char                       rpc_id[NGX_HTTP_CWMP_RPC_ID_LEN];
    ngx_uint_t                   skipped;
    ngx_http_cwmp_task_file_t    file;          /* a transfer's file at
                                                   the ACS */
    u_char                      *file_for;      /* the task it is of */
    ngx_uint_t                   file_wanted;   /* the task has one */
    ngx_str_t                    use_version;   /* UseCWMPVersion */
    ngx_http_cwmp_store_cpe_t    cpe;           /* a CPE request */

    /* the policies at the Inform: the wanted values and objects read */
    ngx_array_t                  candidates;    /* ngx_uint_t */
    ngx_array_t                  wanted;        /* ngx_str_t */
    ngx_array_t                  object_index;  /* ngx_uint_t */
    ngx_array_t                  objects;       /* ngx_str_t */

    ngx_str_t                    rpc_out;       /* what the ACS answered */

    ngx_http_cwmp_access_t       access;        /* the Inform's CPE
                                                   authentication */

    /* the HTTP edge's (ngx_http_cwmp_handler.c) */
    ngx_http_log_handler_pt      log_handler;   /* nginx's */
    ngx_uint_t                   gzip;          /* Content-Encoding: gzip */
} ngx_http_cwmp_ctx_t;


/* the request's session state, made and set as the module's ctx */
ngx_http_cwmp_ctx_t *ngx_http_cwmp_session_ctx(ngx_http_request_t *r);

/*
 * A CPE's message (its body, read whole; empty: the empty POST): NGX_DONE
 * when Redis was asked (the session finalizes), else what to finalize
 * with.
 */
ngx_int_t ngx_http_cwmp_session_message(ngx_http_request_t *r,
    ngx_str_t *body);


#endif /* _NGX_HTTP_CWMP_SESSION_H_INCLUDED_ */
