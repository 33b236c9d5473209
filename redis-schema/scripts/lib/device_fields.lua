-- device_fields: the summary fields the policies read, in this order in
-- every reply that carries them.  .ci/gen-scripts gives the module the
-- same list (ngx_http_cwmp_dev_field_e, ngx_http_cwmp_dev_field_names).
local DEVICE_FIELDS = {
    'oui',
    'product_class',
    'serial_number',
    'manufacturer',
    'software_version',
    'hardware_version',
    'data_model',
    'last_events',
}
