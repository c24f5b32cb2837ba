// Package optim holds the optimizers (SGD with momentum, Adam, AdamW), global
// gradient-norm clipping and learning-rate schedules (constant, Noam warmup +
// inverse square root, cosine with warmup), each registered by name so an
// experiment can choose them from YAML.
//
// Optimizers update parameters in place from their gradients, in float32
// with float64 scalars, exactly as torch.optim does (Adam's fixture matches
// PyTorch within 1e-5). Their state (moments and step count) can be saved
// and restored through StateTensors/LoadState, so a resumed run continues
// bit for bit.
package optim
