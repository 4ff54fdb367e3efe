// libcurl for Swift: curl_easy_setopt and curl_easy_getinfo are variadic C macros-or-functions that Swift cannot
// call, so each type of argument gets a small typed wrapper here. Debian: libcurl4-openssl-dev.
#ifndef CRISIS_CCURL_SHIM_H
#define CRISIS_CCURL_SHIM_H
#include <curl/curl.h>

typedef size_t (*crisis_curl_io_callback)(char *buffer, size_t size, size_t count, void *userdata);

static inline CURLcode crisis_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode crisis_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode crisis_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode crisis_curl_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode crisis_curl_setopt_callback(CURL *curl, CURLoption option, crisis_curl_io_callback value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode crisis_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}
#endif
