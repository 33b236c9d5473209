
/*
 * Copyright (C) ngx_cwmp authors
 *
 * What every harness needs of nginx's process state: page size, time, a
 * cycle and a log that says nothing.
 */


#ifndef _NGX_FUZZ_H_INCLUDED_
#define _NGX_FUZZ_H_INCLUDED_


static ngx_log_t         ngx_fuzz_log;
static ngx_cycle_t       ngx_fuzz_cycle;


static void
ngx_fuzz_init(void)
{
    if (ngx_cycle != NULL) {
        return;
    }

    ngx_pagesize = getpagesize();
    ngx_cacheline_size = NGX_CPU_CACHE_LINE;
    ngx_time_init();

    ngx_fuzz_log.log_level = NGX_LOG_EMERG;
    ngx_fuzz_cycle.log = &ngx_fuzz_log;
    ngx_cycle = &ngx_fuzz_cycle;
}


#endif /* _NGX_FUZZ_H_INCLUDED_ */
