#!/bin/sh
# Render deploy/nginx/ into an nginx prefix from the NGINX_* environment, then run the command.
# The local stack does the same in Python (tools/stack/nginx.py); a system test renders both
# from the same values and compares them. Only NGINX_* names are substituted, so nginx's own
# $variables survive; a placeholder left without a value stops the container.
set -eu
source_dir=${NGINX_TEMPLATE_DIR:-/etc/nginx/project}
prefix=${NGINX_PREFIX_DIR:-/tmp/nginx}

mkdir -p "$prefix/conf.d" "$prefix/extra/public" "$prefix/extra/desk" "$prefix/extra/tls" \
    "$prefix/extra/onion" "$prefix/logs" "$prefix/tmp"
names=$(env | sed -n 's/^\(NGINX_[A-Z0-9_]*\)=.*/${\1}/p' | tr '\n' ' ')
envsubst "$names" < "$source_dir/nginx.conf.template" > "$prefix/nginx.conf"
for template in conf.d/tls.conf conf.d/public-site.conf; do
    envsubst "$names" < "$source_dir/$template" > "$prefix/$template"
done
cp "$source_dir/conf.d/security-headers.conf" "$source_dir/conf.d/hsts.conf" \
    "$source_dir/conf.d/proxy.conf" "$prefix/conf.d/"
cp "$source_dir/ffdhe2048.pem" "$prefix/"
cp -R "$source_dir/errors" "$prefix/"
# The optional RSA certificate beside the main (ECDSA) one; tls.conf includes extra/tls/.
rm -f "$prefix/extra/tls/rsa.conf"
if [ -n "${NGINX_TLS_RSA_CERT:-}" ] && [ -n "${NGINX_TLS_RSA_KEY:-}" ]; then
    printf 'ssl_certificate %s;\nssl_certificate_key %s;\n' \
        "$NGINX_TLS_RSA_CERT" "$NGINX_TLS_RSA_KEY" > "$prefix/extra/tls/rsa.conf"
fi
# The optional onion listener (plain HTTP for Tor); nginx.conf includes extra/onion/.
rm -f "$prefix/extra/onion/server.conf"
if [ -n "${NGINX_ONION_LISTEN:-}" ]; then
    envsubst "$names" < "$source_dir/onion.conf.template" > "$prefix/extra/onion/server.conf"
    # A socket an nginx left when it was killed would make this one's bind fail.
    case $NGINX_ONION_LISTEN in
    unix:*) rm -f "${NGINX_ONION_LISTEN#unix:}" ;;
    esac
fi

missing=
for rendered in "$prefix/nginx.conf" "$prefix/conf.d/tls.conf" "$prefix/conf.d/public-site.conf" \
    "$prefix/extra/onion/server.conf"; do
    if [ -e "$rendered" ] && grep -Hn '\${NGINX_[A-Z0-9_]*}' "$rendered" >&2; then
        missing=yes
    fi
done
if [ -n "$missing" ]; then
    echo "docker-entrypoint.sh: the placeholders above have no NGINX_* value" >&2
    exit 1
fi
exec "$@"
