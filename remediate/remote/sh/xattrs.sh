# read_xattrs PATH...: every extended attribute and ACL of the PATHs (followed through links, as the
# files' bytes are) as one "xattrs BASE64" record of getfattr's dump, when r (reader.sh) found a regular
# file (xa set) and some file has any; "no-getfattr" when the host cannot tell. A file with none costs
# one process and no record.
read_xattrs() {
  if [ -n "$xa" ]; then
    if command -v getfattr >/dev/null; then
      xd=$(getfattr -d -m - -e base64 --absolute-names -- "$@" 2>/dev/null)
      [ -z "$xd" ] || { printf 'xattrs '; printf '%s\n' "$xd" | base64 -w0; echo; }
    else echo no-getfattr
    fi
  fi
}
