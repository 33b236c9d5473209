
/*
 * Copyright (C) ngx_cwmp authors
 *
 * libFuzzer harness: a CWMP body through the SOAP parser (SAX for an
 * Inform, the hardened tree reader otherwise) and, for an answer to an
 * ACS request, through the outcome reader, as the session does.
 * Built against the nginx objects of "make test-asan" ("make fuzz").
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_soap.h"
#include "ngx_http_cwmp_outcome.h"

#include "ngx_fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                   *buf;
    ngx_pool_t               *pool;
    ngx_http_cwmp_msg_t       msg;
    ngx_http_cwmp_outcome_t   outcome;

    if (ngx_cycle == NULL) {
        ngx_fuzz_init();

        xmlInitParser();
    }

    if (size > 2 * 1024 * 1024) {
        return 0;
    }

    pool = ngx_create_pool(4096, &ngx_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    buf = ngx_pnalloc(pool, size + 1);
    if (buf == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    ngx_memcpy(buf, data, size);
    buf[size] = '\0';

    ngx_memzero(&msg, sizeof(ngx_http_cwmp_msg_t));

    if (ngx_http_cwmp_soap_parse(pool, buf, size, &msg) == NGX_OK
        && (msg.type == NGX_HTTP_CWMP_MSG_RESPONSE
            || msg.type == NGX_HTTP_CWMP_MSG_FAULT))
    {
        ngx_memzero(&outcome, sizeof(ngx_http_cwmp_outcome_t));
        (void) ngx_http_cwmp_outcome_read(pool, &msg, &outcome);
    }

    ngx_destroy_pool(pool);

    return 0;
}
