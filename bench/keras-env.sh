# Source this file, then call keras_env: it sets KERAS_PY to a Python with TensorFlow 2.21 (CPU) and
# Keras 3.15, made in /tmp/peer-keras by pip from what this machine's pip reaches (its configured
# package mirrors; nothing is downloaded from elsewhere). bench/keras_vae.py runs with it. Returns 1 where
# no such Python can be made. A reference for bench/ and docs/results only: never needed by npm test.
keras_env() {
  KERAS_PY=/tmp/peer-keras/bin/python
  if [ -x "$KERAS_PY" ] && "$KERAS_PY" -c 'import tensorflow, keras' 2>/dev/null; then return 0; fi
  python3 -m venv /tmp/peer-keras >/dev/null 2>&1 || return 1
  /tmp/peer-keras/bin/pip install -q --retries 0 --timeout 5 "tensorflow-cpu==2.21.0" "keras==3.15.1" numpy >/tmp/peer-keras.log 2>&1
}
