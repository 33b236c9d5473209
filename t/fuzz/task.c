
/*
 * Copyright (C) ngx_cwmp authors
 *
 * libFuzzer harness: a task document as another system queues it (up to
 * a NUL byte; after it, the cached types session_step.lua would send)
 * through ngx_http_cwmp_task_request(): the JSON decoding, the checks of
 * every task name's arguments, the building of the ACS request.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_cwmp_task.h"

#include "ngx_fuzz.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                   *nul;
    ngx_str_t                 raw, types, body;
    ngx_pool_t               *pool;
    ngx_http_cwmp_outcome_t   outcome;

    ngx_fuzz_init();

    if (size > NGX_HTTP_CWMP_MAX_TASK) {
        return 0;
    }

    pool = ngx_create_pool(4096, &ngx_fuzz_log);
    if (pool == NULL) {
        return 0;
    }

    raw.data = ngx_pnalloc(pool, size + 1);
    if (raw.data == NULL) {
        ngx_destroy_pool(pool);
        return 0;
    }

    ngx_memcpy(raw.data, data, size);
    raw.data[size] = '\0';
    raw.len = size;

    ngx_str_null(&types);

    nul = memchr(raw.data, '\0', size);
    if (nul) {
        raw.len = nul - raw.data;
        types.data = nul + 1;
        types.len = size - raw.len - 1;
    }

    ngx_memzero(&outcome, sizeof(ngx_http_cwmp_outcome_t));

    (void) ngx_http_cwmp_task_request(pool, &ngx_fuzz_log, &raw, &types, NULL,
                                      &body, &outcome);

    ngx_destroy_pool(pool);

    return 0;
}
