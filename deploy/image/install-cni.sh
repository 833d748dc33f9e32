#!/bin/sh
# margay-install-cni: the init container of the margay-node DaemonSet. Puts the CNI plugin, the
# node runtime it runs on, the etcd TLS files and the network configuration on the host, where
# the container runtime executes the plugin. Each file is written beside its target and renamed
# into place, so a runtime never executes or reads a half-written file.
set -eu

: "${NODENAME:?NODENAME must be set (the downward API's spec.nodeName)}"
: "${ETCD_ENDPOINTS:?ETCD_ENDPOINTS must be set (the etcd client URLs)}"
: "${CNI_NETWORK_CONFIG:?CNI_NETWORK_CONFIG must be set (the conflist template)}"
HOST_CNI_BIN_DIR="${HOST_CNI_BIN_DIR:-/host/opt/cni/bin}"
HOST_CNI_NET_DIR="${HOST_CNI_NET_DIR:-/host/etc/cni/net.d}"
CNI_CONF_NAME="${CNI_CONF_NAME:-10-margay.conflist}"
ETCD_TLS_SOURCE="${ETCD_TLS_SOURCE:-/etc/margay/etcd-tls}"
# Where the TLS files are on the host (the conflist names host paths: the plugin runs there).
HOST_ETCD_TLS_DIR=/etc/cni/net.d/margay-tls
APP="${MARGAY_APP_DIR:-/opt/margay}"

log() { printf 'install-cni: %s\n' "$*" >&2; }

# The plugin is a bundled script: it ships with the node binary of this image, so the host needs
# no Node.js of its own (only glibc, libstdc++ and libgcc_s, which mainstream distributions have).
stage="$HOST_CNI_BIN_DIR/.margay.d.new"
rm -rf "$stage"
mkdir -p "$stage/bundle"
cp "$(command -v node)" "$stage/node"
cp "$APP/packages/cni/dist/bundle/margay-cni.js" "$stage/bundle/margay-cni.js"
cp -r "$APP/packages/cni/dist/proto" "$stage/proto"
rm -rf "$HOST_CNI_BIN_DIR/margay.d"
mv "$stage" "$HOST_CNI_BIN_DIR/margay.d"

shim="$HOST_CNI_BIN_DIR/.margay.new"
cat >"$shim" <<'SHIM'
#!/bin/sh
dir="$(dirname "$0")/margay.d"
exec "$dir/node" "$dir/bundle/margay-cni.js" "$@"
SHIM
chmod 0755 "$shim"
mv "$shim" "$HOST_CNI_BIN_DIR/margay"
log "installed the plugin as $HOST_CNI_BIN_DIR/margay"

# TLS files readable by root only: they authenticate to etcd.
tls="$HOST_CNI_NET_DIR/margay-tls"
mkdir -p "$tls"
chmod 0700 "$tls"
for file in ca.crt tls.crt tls.key; do
  if [ -f "$ETCD_TLS_SOURCE/$file" ]; then
    cp "$ETCD_TLS_SOURCE/$file" "$tls/.$file.new"
    chmod 0600 "$tls/.$file.new"
    mv "$tls/.$file.new" "$tls/$file"
  fi
done

# Fill in the template. sed's replacement text must not carry its own delimiter or &. Without
# TLS files (a plain http etcd) the template's lines naming them are dropped: each is on a line
# of its own, before the last field, so the JSON stays valid.
escape() { printf '%s' "$1" | sed -e 's/[|&\\]/\\&/g'; }
drop_tls='/__ETCD_TLS_DIR__/d'
[ -f "$ETCD_TLS_SOURCE/ca.crt" ] && drop_tls=''
conf="$HOST_CNI_NET_DIR/.$CNI_CONF_NAME.new"
printf '%s\n' "$CNI_NETWORK_CONFIG" |
  sed -e "$drop_tls" -e "s|__NODENAME__|$(escape "$NODENAME")|g" \
    -e "s|__ETCD_ENDPOINTS__|$(escape "$ETCD_ENDPOINTS")|g" \
    -e "s|__ETCD_TLS_DIR__|$(escape "$HOST_ETCD_TLS_DIR")|g" >"$conf"
chmod 0600 "$conf"
mv "$conf" "$HOST_CNI_NET_DIR/$CNI_CONF_NAME"
log "wrote $HOST_CNI_NET_DIR/$CNI_CONF_NAME for node $NODENAME"
