
/*
 * Copyright (C) ngx_cwmp authors
 *
 * ACS -> CPE connection requests (TR-069 3.2.2): every worker reads
 * cwmp:connreq through one consumer group and asks each device named
 * there to start a session, with an HTTP GET to its ConnectionRequestURL
 * (HTTP digest), without blocking.
 */


#ifndef _NGX_HTTP_CWMP_CONNREQ_H_INCLUDED_
#define _NGX_HTTP_CWMP_CONNREQ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_store.h"
#include "ngx_http_cwmp_xmpp.h"


/* cwmp_connreq_transports: each entry a transport, | _NAT when it is
 * tried only for a device that reports NATDetected */
#define NGX_HTTP_CWMP_CONNREQ_HTTP       0x01
#define NGX_HTTP_CWMP_CONNREQ_UDP        0x02
#define NGX_HTTP_CWMP_CONNREQ_XMPP       0x04
#define NGX_HTTP_CWMP_CONNREQ_NAT        0x10
#define NGX_HTTP_CWMP_CONNREQ_TRANSPORTS 8


typedef struct {
    ngx_flag_t                   enable;
    ngx_msec_t                   timeout;       /* per request */
    ngx_msec_t                   window;        /* triggers coalesced */
    ngx_uint_t                   max;           /* in flight per worker */
    ngx_msec_t                   claim_after;   /* a dead consumer's idle
                                                   entries taken over */
    ngx_array_t                 *allow;         /* ngx_cidr_t */
    ngx_flag_t                   basic;         /* Basic when challenged */
    ngx_addr_t                  *udp;           /* the UDP socket (STUN's)
                                                   UDP requests leave from */
    ngx_str_t                    username;      /* when Redis has none */
    ngx_str_t                    password;
    ngx_http_cwmp_xmpp_conf_t   *xmpp;          /* NULL: no XMPP */
    ngx_uint_t                   transports[NGX_HTTP_CWMP_CONNREQ_TRANSPORTS];
    ngx_uint_t                   ntransports;   /* 0: the default order */
} ngx_http_cwmp_connreq_conf_t;


ngx_int_t ngx_http_cwmp_connreq_init_process(ngx_cycle_t *cycle,
    ngx_http_cwmp_connreq_conf_t *conf, ngx_http_cwmp_store_t *store);


#endif /* _NGX_HTTP_CWMP_CONNREQ_H_INCLUDED_ */
