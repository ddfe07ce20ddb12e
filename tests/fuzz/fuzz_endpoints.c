/*
 * fuzz_endpoints: arun-webhook's endpoints file parser on arbitrary text.
 * Invariants: a refusal says why on one line starting "line N: "; an
 * accepted file has 1..256 endpoints, each with an http(s) URL, at most 16
 * keys of 1..128 bytes, a concurrency in 1..1024, filter strings that are
 * non-empty; the parse appends after endpoints already there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    if (!text)
        return 0;
    struct wh_settings cfg = {.concurrency = 8};
    struct wh_endpoint *eps = NULL;
    size_t n = 0;
    char err[WH_ERR_MAX] = "";
    if (endpoints_parse_config(text, &cfg, &eps, &n, err) < 0) {
        CHECK(strncmp(err, "line ", 5) == 0 && !strchr(err, '\n'));
    } else {
        CHECK(n >= 1 && n <= WH_MAX_ENDPOINTS);
        for (size_t i = 0; i < n; i++) {
            const struct wh_endpoint *ep = &eps[i];
            CHECK(ep->url && (strncmp(ep->url, "http://", 7) == 0 ||
                              strncmp(ep->url, "https://", 8) == 0));
            CHECK(ep->nkeys <= WH_MAX_SECRETS);
            for (size_t k = 0; k < ep->nkeys; k++)
                CHECK(ep->keys[k].len >= 1 && ep->keys[k].len <= WHSIG_KEY_MAX);
            CHECK(ep->concurrency >= 1 && ep->concurrency <= 1024);
            for (size_t k = 0; k < ep->nscripts; k++)
                CHECK(ep->scripts[k][0] != '\0');
            for (size_t k = 0; k < ep->nstatuses; k++)
                CHECK(ep->statuses[k][0] != '\0');
            CHECK(endpoints_match(ep, ep->nscripts ? ep->scripts[0] : "x",
                                  ep->nstatuses ? ep->statuses[0] : "y"));
        }
    }
    endpoints_free(eps, n);
    free(text);
    return 0;
}
