# shellcheck shell=bash
# Sourced by scripts/testbed.sh: the test bed's TLS PKI, made with openssl into $PKI_DIR (root only).
#   cacert.pem cakey.pem            a CA made for this test bed only ("virtwire test bed CA")
#   servercert.pem serverkey.pem    libvirtd's certificate: CN localhost, SAN DNS:localhost, IP:127.0.0.1
#   clientcert.pem clientkey.pem    a client certificate the daemon accepts (CN virtwire test client)
# The names are those libvirt looks for with pkipath=$PKI_DIR. Files are made once (per boot: the
# state dir is on /run) and never leave the machine; nothing here is committed.

PKI_DIR="$STATE/pki"
PKI_DAYS=3650

pki_key() { # file
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null \
    || die "openssl cannot generate a key ($1)"
  chmod 600 "$1"
}

pki_sign() { # name subject extensions
  local csr="$PKI_DIR/$1.csr" ext="$PKI_DIR/$1.ext"
  pki_key "$PKI_DIR/${1}key.pem"
  printf '%b' "$3" >"$ext"
  openssl req -new -key "$PKI_DIR/${1}key.pem" -subj "$2" -out "$csr" 2>/dev/null \
    || die "openssl cannot make the $1 certificate request"
  openssl x509 -req -in "$csr" -CA "$PKI_DIR/cacert.pem" -CAkey "$PKI_DIR/cakey.pem" \
    -CAcreateserial -days "$PKI_DAYS" -extfile "$ext" -out "$PKI_DIR/${1}cert.pem" 2>/dev/null \
    || die "openssl cannot sign the $1 certificate"
  rm -f "$csr" "$ext"
}

pki_complete() {
  local f
  for f in cacert cakey servercert serverkey clientcert clientkey; do
    [[ -s $PKI_DIR/$f.pem ]] || return 1
  done
}

pki_ensure() {
  if pki_complete; then return; fi
  say "making the TLS test PKI in $PKI_DIR"
  rm -rf "$PKI_DIR"
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  pki_key "$PKI_DIR/cakey.pem"
  openssl req -x509 -new -key "$PKI_DIR/cakey.pem" -subj "/CN=virtwire test bed CA" \
    -days "$PKI_DAYS" -out "$PKI_DIR/cacert.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null || die "openssl cannot make the test CA"
  # libvirt checks key usage and purpose of both ends when the extensions are critical.
  pki_sign server "/CN=localhost" \
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n'
  pki_sign client "/CN=virtwire test client" \
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n'
  rm -f "$PKI_DIR/cacert.srl"
}

# A short digest of the server credentials, so that a new PKI changes the daemon config (restart).
pki_digest() {
  cat "$PKI_DIR/cacert.pem" "$PKI_DIR/servercert.pem" | sha256sum | cut -c1-16
}
