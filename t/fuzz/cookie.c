
/*
 * Copyright (C) ngx_cwmp authors
 *
 * libFuzzer harness: a Cookie header as a CPE sends it, through the
 * session cookie reader (ngx_http_cwmp_conn_cookie(), the first and the
 * second cookie).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cwmp_conn.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char              *copy;
    ngx_str_t            token, device_id;
    ngx_uint_t           n;
    ngx_table_elt_t      h;
    ngx_http_request_t   r;
#if (nginx_version < 1023000)
    ngx_table_elt_t     *hp;
#endif

    if (size > 8192) {
        return 0;
    }

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    ngx_memzero(&r, sizeof(ngx_http_request_t));
    ngx_memzero(&h, sizeof(ngx_table_elt_t));

    ngx_str_set(&h.key, "Cookie");
    h.value.data = copy;
    h.value.len = size;

#if (nginx_version >= 1023000)
    r.headers_in.cookie = &h;
#else
    hp = &h;
    r.headers_in.cookies.elts = &hp;
    r.headers_in.cookies.nelts = 1;
    r.headers_in.cookies.size = sizeof(ngx_table_elt_t *);
    r.headers_in.cookies.nalloc = 1;
#endif

    for (n = 0; n < 2; n++) {
        if (ngx_http_cwmp_conn_cookie(&r, n, &token, &device_id) != NGX_OK) {
            break;
        }

        if (token.data < copy || token.data + token.len > copy + size
            || device_id.data < copy
            || device_id.data + device_id.len > copy + size)
        {
            abort();
        }
    }

    free(copy);

    return 0;
}
