// Package optim holds the optimizers (SGD with momentum, Adam, AdamW), global
// gradient-norm clipping and learning-rate schedules (constant, Noam warmup +
// inverse square root, cosine with warmup), each registered by name so an
// experiment can choose them from YAML.
//
// Optimizers update parameters in place from their gradients, in float32
// with float64 scalars, exactly as torch.optim does (the fixtures in
// testdata, made by testdata/make_fixtures.py, match PyTorch within 1e-5:
// Adam, Adam with L2 weight decay, AdamW, SGD with momentum, Nesterov
// momentum and weight decay; SGD has no dampening). Their state (moments and step count) can be saved
// and restored through State/LoadState, so a resumed run continues
// bit for bit.
package optim
