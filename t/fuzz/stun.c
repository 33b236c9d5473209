
/*
 * Copyright (C) ngx_cwmp authors
 *
 * libFuzzer harness: a UDP datagram as the STUN server reads it
 * (ngx_stream_cwmp_stun_parse()): what the attributes it reports point
 * at must lie inside the datagram.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_stream_cwmp_stun_module.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *p;
    ngx_stream_cwmp_stun_req_t   req;

    /* a copy of the exact size: ASan sees any read past it */

    p = malloc(size ? size : 1);
    if (p == NULL) {
        return 0;
    }

    memcpy(p, data, size);

    if (ngx_stream_cwmp_stun_parse(p, size, &req) == NGX_OK) {

        if (req.username.len
            && (req.username.data < p
                || req.username.data + req.username.len > p + size))
        {
            abort();
        }

        if (req.mi && (req.mi < p || req.mi + 24 > p + size)) {
            abort();
        }
    }

    free(p);

    return 0;
}
