
/*
 * Copyright (C) ngx_cwmp authors
 *
 * The STUN server of TR-069 Annex G (ngx_stream_cwmp_stun_module.c): the
 * datagram reader, for the fuzzer too.
 */


#ifndef _NGX_STREAM_CWMP_STUN_MODULE_H_INCLUDED_
#define _NGX_STREAM_CWMP_STUN_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


typedef struct {
    u_char                      *msg;
    ngx_str_t                    username;      /* USERNAME, or empty */
    u_char                      *mi;            /* MESSAGE-INTEGRITY, or
                                                   NULL */
    ngx_uint_t                   rfc5389;       /* the magic cookie */
    ngx_uint_t                   binding;       /* CONNECTION-REQUEST-
                                                   BINDING */
    ngx_uint_t                   change;        /* BINDING-CHANGE */
} ngx_stream_cwmp_stun_req_t;


ngx_int_t ngx_stream_cwmp_stun_parse(u_char *p, size_t len,
    ngx_stream_cwmp_stun_req_t *req);


#endif /* _NGX_STREAM_CWMP_STUN_MODULE_H_INCLUDED_ */
