#!/usr/bin/env python3
"""The study's VAEs in Keras: the reference optbench's VAE is held to (docs/results/vae-modes).

The Keras example `variational_autoencoder_deconv.py` at the study's settings (spec/study-protocol.md in
the shared folder): Conv2D x2 (stride 2, same, relu), Flatten, Dense(16, relu), z_mean and z_log_var,
z = mu + exp(log_var / 2) * eps; Dense(7*7*F2, relu), Reshape, Conv2DTranspose(F2, F1; stride 2, relu),
Conv2DTranspose(1, sigmoid). Loss per image: 784 * mse(x, x_hat) + KL, batch mean; batch 200; kernels
glorot_uniform, biases zeros; the optimizers at tf.keras 2.x's stock values and rules (what the study ran:
Keras 3 moved RMSprop's and Adagrad's epsilon inside the root and changed Nadam's schedule, so those three
are written out here as tf.keras 2.x had them; the other four are Keras 3's own, whose rules did not change).

A reference for bench/ and docs/results only, never a dependency of optbench. Run it with the Python that
bench/keras-env.sh makes. Five commands:

  modes   --model vae1 --optimizers adam,rmsprop --seeds 0-63 --epochs 2 --out modes.jsonl
          trains each (seed, optimizer) and appends one JSON line per run: the train and test loss of every
          epoch. Runs already in the file are skipped, so the same command continues a stopped one.
  step    --model vae1 --seed 0 --out step.json
          the initial weights, one batch of training images with its eps, the loss, every gradient, and
          one step of each of the seven optimizers from the same gradients (sampled entries), for
          spec/keras-vae.spec.ts.
  trajectory --model vae1 --seed 0 --optimizer adam --steps 600 --out traj.json
          trains N steps from the initial weights on batches and eps that optbench replays
          (bench/keras-vae-trajectory.ts), keeping the loss of every step.
  replay  --in own.json --out own-keras.json
          trains the sequence another stack wrote (optbench's own initial weights, batches and eps:
          bench/keras-vae-trajectory.ts write) and keeps the loss of every step.
  inits   --model vae1 --seeds 0-99 --out inits.json
          per layer, the min, max, mean and variance of the initial weights over the seeds.
"""
import argparse
import base64
import gzip
import json
import os
import struct
import sys
import time

import numpy as np

SHAPES = {
    'vae1': {'f1': 32, 'f2': 64, 'kernel': 3, 'latent': 5},
    'vae2': {'f1': 64, 'f2': 128, 'kernel': 5, 'latent': 10},
}
OPTIMIZERS = ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam']
BATCH = 200
DATA_DIR = os.environ.get('OPTBENCH_DATA', '/usr/share/datasets/fashion-mnist')


def fail(msg):
    print(f'keras_vae: {msg}', file=sys.stderr)
    sys.exit(2)


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    magic, = struct.unpack('>I', raw[:4])
    dims = magic & 0xFF
    shape = struct.unpack('>' + 'I' * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_images(split):
    name = 'train' if split == 'train' else 't10k'
    path = os.path.join(DATA_DIR, f'{name}-images-idx3-ubyte.gz')
    if not os.path.exists(path):
        fail(f'{path} not found: install Debian\'s dataset-fashion-mnist or set OPTBENCH_DATA')
    return read_idx(path)


def seeds_arg(text):
    """'0-63' or '0,2,7' or '5'."""
    out = []
    for part in text.split(','):
        if '-' in part:
            a, b = part.split('-')
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def setup_tf(threads):
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf


def build(model):
    import keras
    from keras import layers
    s = SHAPES[model]
    k, f1, f2, latent = s['kernel'], s['f1'], s['f2'], s['latent']
    image = keras.Input(shape=(28, 28, 1), name='encoder_input')
    x = layers.Conv2D(f1, k, strides=2, padding='same', activation='relu', name='conv1')(image)
    x = layers.Conv2D(f2, k, strides=2, padding='same', activation='relu', name='conv2')(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation='relu', name='dense1')(x)
    z_mean = layers.Dense(latent, name='z_mean')(x)
    z_log_var = layers.Dense(latent, name='z_log_var')(x)
    encoder = keras.Model(image, [z_mean, z_log_var], name='encoder')
    z = keras.Input(shape=(latent,), name='z_sampling')
    y = layers.Dense(7 * 7 * f2, activation='relu', name='dense2')(z)
    y = layers.Reshape((7, 7, f2))(y)
    y = layers.Conv2DTranspose(f2, k, strides=2, padding='same', activation='relu', name='deconv1')(y)
    y = layers.Conv2DTranspose(f1, k, strides=2, padding='same', activation='relu', name='deconv2')(y)
    out = layers.Conv2DTranspose(1, k, padding='same', activation='sigmoid', name='decoder_output')(y)
    decoder = keras.Model(z, out, name='decoder')
    return encoder, decoder


def optimizer(name):
    """tf.keras 2.x's stock optimizer `name` (spec/keras-optimizers.md)."""
    import keras
    from keras import ops

    class RMSpropTfKeras2(keras.optimizers.RMSprop):
        """tf.keras 2.x without momentum: theta -= lr * g / (sqrt(ms) + eps), epsilon outside the root."""

        def update_step(self, gradient, variable, learning_rate):
            lr = ops.cast(learning_rate, variable.dtype)
            ms = self._velocities[self._get_variable_index(variable)]
            self.assign(ms, ops.add(ops.multiply(self.rho, ms), ops.multiply(1 - self.rho, ops.square(gradient))))
            self.assign_sub(variable, ops.divide(ops.multiply(lr, gradient), ops.add(ops.sqrt(ms), self.epsilon)))

    class AdagradTfKeras2(keras.optimizers.Adagrad):
        """tf.keras 2.x (ResourceApplyAdagradV2): theta -= lr * g / (sqrt(acc) + eps)."""

        def update_step(self, gradient, variable, learning_rate):
            lr = ops.cast(learning_rate, variable.dtype)
            acc = self._accumulators[self._get_variable_index(variable)]
            self.assign_add(acc, ops.square(gradient))
            self.assign_sub(variable, ops.divide(ops.multiply(lr, gradient), ops.add(ops.sqrt(acc), self.epsilon)))

    class NadamTfKeras2(keras.optimizers.Nadam):
        """tf.keras 2.x: mu_t = beta1 * (1 - 0.5 * 0.96^(0.004 t)) (Keras 3 dropped the 0.004)."""

        def _mu(self, t, dtype):
            return self.beta_1 * (1.0 - 0.5 * ops.power(ops.cast(0.96, dtype), ops.cast(0.004, dtype) * t))

        def _backend_update_step(self, grads, trainable_variables, learning_rate):
            dtype = self._u_product.dtype
            t = ops.cast(self.iterations + 1, dtype)
            self.assign(self._u_product, self._u_product * self._mu(t, dtype))
            super(keras.optimizers.Nadam, self)._backend_update_step(grads, trainable_variables, learning_rate)

        def update_step(self, gradient, variable, learning_rate):
            dtype = variable.dtype
            lr = ops.cast(learning_rate, dtype)
            t = ops.cast(self.iterations + 1, dtype)
            u_t = self._mu(t, dtype)
            u_t1 = self._mu(t + 1, dtype)
            u_prod = ops.cast(self._u_product, dtype)
            u_prod1 = u_prod * u_t1
            m = self._momentums[self._get_variable_index(variable)]
            v = self._velocities[self._get_variable_index(variable)]
            self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
            self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
            m_hat = ops.add(ops.divide(ops.multiply(u_t1, m), 1 - u_prod1), ops.divide(ops.multiply(1 - u_t, gradient), 1 - u_prod))
            v_hat = ops.divide(v, 1 - ops.power(ops.cast(self.beta_2, dtype), t))
            self.assign_sub(variable, ops.divide(ops.multiply(m_hat, lr), ops.add(ops.sqrt(v_hat), self.epsilon)))

    made = {
        'sgd': lambda: keras.optimizers.SGD(learning_rate=0.01),
        'rmsprop': lambda: RMSpropTfKeras2(learning_rate=1e-3, rho=0.9, epsilon=1e-7),
        'adagrad': lambda: AdagradTfKeras2(learning_rate=1e-3, initial_accumulator_value=0.1, epsilon=1e-7),
        'adadelta': lambda: keras.optimizers.Adadelta(learning_rate=1e-3, rho=0.95, epsilon=1e-7),
        'adam': lambda: keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        'adamax': lambda: keras.optimizers.Adamax(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        'nadam': lambda: NadamTfKeras2(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    }
    if name not in made:
        fail(f"unknown optimizer '{name}': one of {', '.join(OPTIMIZERS)}")
    return made[name]()


def losses(tf, encoder, decoder, x, eps, training):
    """The example's loss: 784 * mse over the flattened batch (the batch mean of each image's SSE) + mean KL."""
    import keras
    mu, log_var = encoder(x, training=training)
    z = mu + tf.exp(0.5 * log_var) * eps
    x_hat = decoder(z, training=training)
    reconstruction = keras.losses.mean_squared_error(tf.reshape(x, [-1]), tf.reshape(x_hat, [-1])) * 784.0
    kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mu) - tf.exp(log_var), axis=-1)
    return tf.reduce_mean(reconstruction + kl), reconstruction, tf.reduce_mean(kl)


def train_run(tf, model, opt_name, seed, epochs, x_train, x_test):
    import keras
    keras.utils.set_random_seed(seed)
    encoder, decoder = build(model)
    opt = optimizer(opt_name)
    variables = encoder.trainable_variables + decoder.trainable_variables
    noise = tf.random.Generator.from_seed(seed)
    latent = SHAPES[model]['latent']

    @tf.function
    def step(x):
        eps = noise.normal([tf.shape(x)[0], latent])
        with tf.GradientTape() as tape:
            loss, _, _ = losses(tf, encoder, decoder, x, eps, True)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    @tf.function
    def test_loss(x):
        eps = noise.normal([tf.shape(x)[0], latent])
        loss, _, _ = losses(tf, encoder, decoder, x, eps, False)
        return loss

    order = np.random.RandomState(seed)
    out = []
    for epoch in range(1, epochs + 1):
        t0 = time.time()
        perm = order.permutation(len(x_train))
        total = 0.0
        for b in range(0, len(x_train), BATCH):
            total += float(step(tf.constant(x_train[perm[b:b + BATCH]]))) * len(perm[b:b + BATCH])
        train_s = time.time() - t0
        test = [float(test_loss(tf.constant(x_test[b:b + BATCH]))) * len(x_test[b:b + BATCH]) for b in range(0, len(x_test), BATCH)]
        out.append({'epoch': epoch, 'trainLoss': total / len(x_train), 'testLoss': sum(test) / len(x_test), 'trainSeconds': round(train_s, 2)})
    return out


def scaled(images):
    return (images.astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)


def cmd_modes(args):
    tf = setup_tf(args.threads)
    import keras
    done = set()
    if os.path.exists(args.out):
        with open(args.out) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    done.add((r['model'], r['optimizer'], r['seed'], len(r['epochs'])))
    x_train, x_test = scaled(load_images('train')), scaled(load_images('test'))
    for seed in seeds_arg(args.seeds):
        for opt_name in args.optimizers.split(','):
            if (args.model, opt_name, seed, args.epochs) in done:
                continue
            epochs = train_run(tf, args.model, opt_name, seed, args.epochs, x_train, x_test)
            row = {'stack': 'keras', 'model': args.model, 'optimizer': opt_name, 'seed': seed, 'epochs': epochs,
                   'tensorflow': tf.__version__, 'keras': keras.__version__}
            with open(args.out, 'a') as f:
                f.write(json.dumps(row) + '\n')
            losses_text = ' '.join('%.2f' % e['testLoss'] for e in epochs)
            print(f'{args.model} {opt_name} seed {seed}: test loss {losses_text}', flush=True)


def b64(array, dtype):
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode('ascii')


def cmd_step(args):
    tf = setup_tf(args.threads)
    import keras
    keras.utils.set_random_seed(args.seed)
    encoder, decoder = build(args.model)
    variables = encoder.trainable_variables + decoder.trainable_variables
    initial = [v.numpy().copy() for v in variables]
    rng = np.random.RandomState(args.seed)
    images = load_images('train')[rng.permutation(60000)[:BATCH]]
    eps = rng.standard_normal((BATCH, SHAPES[args.model]['latent'])).astype(np.float32)
    x = tf.constant(scaled(images))
    with tf.GradientTape() as tape:
        loss, reconstruction, kl = losses(tf, encoder, decoder, x, tf.constant(eps), True)
    grads = [g.numpy() for g in tape.gradient(loss, variables)]
    # One step of each optimizer from the same weights and gradients, on a sample of each weight's entries.
    sample = np.random.RandomState(1000 + args.seed)
    picks = [np.sort(sample.choice(w.size, size=min(w.size, args.sample), replace=False)).astype(np.int32) for w in initial]
    steps = {}
    for name in OPTIMIZERS:
        for v, w in zip(variables, initial):
            v.assign(w)
        opt = optimizer(name)
        opt.apply_gradients(zip([tf.constant(g) for g in grads], variables))
        moved = [(v.numpy() - w).reshape(-1)[p] for v, w, p in zip(variables, initial, picks)]
        steps[name] = {'config': {k: v for k, v in opt.get_config().items() if isinstance(v, (int, float, bool))},
                       'displacement': [b64(m, '<f4') for m in moved]}
    doc = {
        'what': f'{args.model}, seed {args.seed}: initial weights, one training batch and its eps, loss and gradients '
                'in Keras, and one step of each optimizer (sampled entries); written by bench/keras_vae.py step',
        'tensorflow': tf.__version__, 'keras': keras.__version__,
        'model': args.model, 'seed': args.seed,
        'loss': float(loss), 'reconstruction': float(reconstruction), 'kl': float(kl),
        'images': b64(images, np.uint8), 'eps': b64(eps, '<f4'),
        'weights': [{'name': v.path, 'shape': list(w.shape), 'initial': b64(w, '<f4'), 'gradient': b64(g, '<f4'),
                     'sample': b64(p, '<i4')} for v, w, g, p in zip(variables, initial, grads, picks)],
        'steps': steps,
    }
    with open(args.out, 'w') as f:
        json.dump(doc, f)
    print(f'{args.out}: loss {float(loss):.6f} ({len(variables)} weights)')


def train_sequence(tf, encoder, decoder, opt, order, eps, steps):
    """Trains `steps` steps on the batches `order` gives and the eps given; the loss of every step."""
    variables = encoder.trainable_variables + decoder.trainable_variables
    x_train = scaled(load_images('train'))

    @tf.function
    def step(x, e):
        with tf.GradientTape() as tape:
            loss, _, _ = losses(tf, encoder, decoder, x, e, True)
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return [float(step(tf.constant(x_train[order[i * BATCH:(i + 1) * BATCH]]), tf.constant(eps[i * BATCH:(i + 1) * BATCH])))
            for i in range(steps)]


def trajectory_doc(tf, keras, model, seed, opt_name, steps, order, eps, out, variables, initial, what):
    return {
        'what': what, 'tensorflow': tf.__version__, 'keras': keras.__version__,
        'model': model, 'seed': seed, 'optimizer': opt_name, 'steps': steps,
        'order': b64(order, '<i4'), 'eps': b64(eps, '<f4'), 'losses': out,
        'weights': [{'name': v.path, 'shape': list(w.shape), 'initial': b64(w, '<f4')} for v, w in zip(variables, initial)],
    }


def cmd_trajectory(args):
    """N training steps from Keras's initial weights on batches and eps both stacks can replay: the
    batches are a numpy permutation per epoch, eps numpy normals, so optbench can train the very same
    sequence (bench/keras-vae-trajectory.ts) and the two loss curves can be compared step by step."""
    tf = setup_tf(args.threads)
    import keras
    keras.utils.set_random_seed(args.seed)
    encoder, decoder = build(args.model)
    variables = encoder.trainable_variables + decoder.trainable_variables
    initial = [v.numpy().copy() for v in variables]
    latent = SHAPES[args.model]['latent']
    rng = np.random.RandomState(args.seed)
    per_epoch = 60000 // BATCH
    order = np.concatenate([rng.permutation(60000) for _ in range((args.steps + per_epoch - 1) // per_epoch)])[:args.steps * BATCH]
    eps = rng.standard_normal((args.steps * BATCH, latent)).astype(np.float32)
    out = train_sequence(tf, encoder, decoder, optimizer(args.optimizer), order, eps, args.steps)
    doc = trajectory_doc(tf, keras, args.model, args.seed, args.optimizer, args.steps, order, eps, out, variables, initial,
                         f"{args.model}, seed {args.seed}, {args.optimizer}: {args.steps} steps from Keras's initial weights on "
                         'replayable batches and eps; written by bench/keras_vae.py trajectory')
    with open(args.out, 'w') as f:
        json.dump(doc, f)
    print(f'{args.out}: loss {out[0]:.4f} -> {out[-1]:.4f} after {args.steps} steps')


def cmd_replay(args):
    """Keras trains a sequence another stack wrote (its initial weights, batches and eps: the file
    `bench/keras-vae-trajectory.ts write` makes from optbench's own initial weights)."""
    tf = setup_tf(args.threads)
    import keras
    with open(args.input) as f:
        doc = json.load(f)
    keras.utils.set_random_seed(doc['seed'])
    encoder, decoder = build(doc['model'])
    variables = encoder.trainable_variables + decoder.trainable_variables
    if len(variables) != len(doc['weights']):
        fail(f"{args.input} has {len(doc['weights'])} weights, the model {len(variables)}")
    for v, w in zip(variables, doc['weights']):
        if list(v.shape) != w['shape']:
            fail(f"{v.path}: the model's shape {list(v.shape)}, the file's {w['shape']}")
        v.assign(np.frombuffer(base64.b64decode(w['initial']), dtype='<f4').reshape(w['shape']))
    initial = [v.numpy().copy() for v in variables]
    order = np.frombuffer(base64.b64decode(doc['order']), dtype='<i4')
    eps = np.frombuffer(base64.b64decode(doc['eps']), dtype='<f4').reshape(-1, SHAPES[doc['model']]['latent'])
    out = train_sequence(tf, encoder, decoder, optimizer(doc['optimizer']), order, eps, doc['steps'])
    doc = trajectory_doc(tf, keras, doc['model'], doc['seed'], doc['optimizer'], doc['steps'], order, eps, out, variables, initial,
                         f"{doc['model']}, seed {doc['seed']}, {doc['optimizer']}: {doc['steps']} steps in Keras of the sequence "
                         f"in {os.path.basename(args.input)}; written by bench/keras_vae.py replay")
    with open(args.out, 'w') as f:
        json.dump(doc, f)
    print(f'{args.out}: loss {out[0]:.4f} -> {out[-1]:.4f} after {doc["steps"]} steps')


def cmd_inits(args):
    tf = setup_tf(args.threads)
    import keras
    stats = {}
    for seed in seeds_arg(args.seeds):
        keras.utils.set_random_seed(seed)
        encoder, decoder = build(args.model)
        for v in encoder.trainable_variables + decoder.trainable_variables:
            w = v.numpy().astype(np.float64).reshape(-1)
            s = stats.setdefault(v.path, {'shape': list(v.shape), 'n': 0, 'sum': 0.0, 'sq': 0.0, 'min': np.inf, 'max': -np.inf})
            s['n'] += w.size
            s['sum'] += float(w.sum())
            s['sq'] += float((w * w).sum())
            s['min'] = min(s['min'], float(w.min()))
            s['max'] = max(s['max'], float(w.max()))
    rows = []
    for name, s in stats.items():
        mean = s['sum'] / s['n']
        rows.append({'name': name, 'shape': s['shape'], 'values': s['n'], 'min': s['min'], 'max': s['max'],
                     'mean': mean, 'variance': s['sq'] / s['n'] - mean * mean})
    with open(args.out, 'w') as f:
        json.dump({'stack': 'keras', 'model': args.model, 'seeds': args.seeds, 'tensorflow': tf.__version__,
                   'keras': keras.__version__, 'layers': rows}, f, indent=1)
    print(f'{args.out}: {len(rows)} weights over seeds {args.seeds}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='command', required=True)
    for name in ('modes', 'step', 'inits', 'trajectory', 'replay'):
        s = sub.add_parser(name)
        s.add_argument('--model', default='vae1', choices=sorted(SHAPES))
        if name == 'replay':
            s.add_argument('--in', dest='input', required=True)
        s.add_argument('--out', required=True)
        s.add_argument('--threads', type=int, default=1)
        if name == 'modes':
            s.add_argument('--optimizers', default='adam')
            s.add_argument('--seeds', default='0-15')
            s.add_argument('--epochs', type=int, default=2)
        if name == 'step':
            s.add_argument('--seed', type=int, default=0)
            s.add_argument('--sample', type=int, default=256, help='entries of each weight whose step is kept')
        if name == 'inits':
            s.add_argument('--seeds', default='0-99')
        if name == 'trajectory':
            s.add_argument('--seed', type=int, default=0)
            s.add_argument('--optimizer', default='adam', choices=OPTIMIZERS)
            s.add_argument('--steps', type=int, default=600)
    args = p.parse_args()
    if getattr(args, 'optimizers', None):
        for o in args.optimizers.split(','):
            if o not in OPTIMIZERS:
                fail(f"unknown optimizer '{o}': one of {', '.join(OPTIMIZERS)}")
    {'modes': cmd_modes, 'step': cmd_step, 'inits': cmd_inits, 'trajectory': cmd_trajectory, 'replay': cmd_replay}[args.command](args)


if __name__ == '__main__':
    main()
