"""PyTorch references for every example network in examples/.

Each builder returns (module, input shape). torchvision's own definitions are
used where torchvision 0.14 has the architecture; the others are written
here from their papers, independently of the .nn files.

    python3 tests/reference/models.py            # table of params and MACs
    python3 tests/reference/models.py --json     # the same as JSON
"""
import argparse
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class RBF(nn.Module):
    """LeNet-5's output layer: y_i = sum_j (x_j - w_ij)^2."""

    def __init__(self, inputs, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(units, inputs))
        self.in_features, self.out_features = inputs, units

    def forward(self, x):
        return ((x.unsqueeze(1) - self.weight.unsqueeze(0)) ** 2).sum(-1)


def lenet5():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), RBF(84, 10))
    return model, (1, 28, 28)


def lrn():
    # alpha 1e-4 in the papers' formula, which PyTorch divides by size.
    return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)


def classifier(features, classes=1000):
    return [nn.Flatten(),
            nn.Linear(features, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, classes)]


def alexnet():
    model = nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), lrn(),
        nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(),
        nn.MaxPool2d(3, 2), *classifier(256 * 6 * 6))
    return model, (3, 227, 227)


def zfnet():
    model = nn.Sequential(
        nn.Conv2d(3, 96, 7, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
        nn.Conv2d(96, 256, 5, stride=2), nn.ReLU(),
        nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, 2), *classifier(256 * 6 * 6))
    return model, (3, 224, 224)


def vgg(config, lrn_after_first=False):
    layers, channels = [], 3
    for item in config:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        out, k = item if isinstance(item, tuple) else (item, 3)
        layers += [nn.Conv2d(channels, out, k, padding=k // 2), nn.ReLU()]
        if lrn_after_first and channels == 3:
            layers.append(lrn())
        channels = out
    return nn.Sequential(*layers, *classifier(512 * 7 * 7)), (3, 224, 224)


def vgg11_lrn():
    return vgg([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512,
                "M"], lrn_after_first=True)


def vgg16c():
    return vgg([64, 64, "M", 128, 128, "M", 256, 256, (256, 1), "M",
                512, 512, (512, 1), "M", 512, 512, (512, 1), "M"])


def tv(name, size=224):
    def build():
        return getattr(torchvision.models, name)(weights=None), (3, size, size)
    return build


class Inception(nn.Module):
    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, c1, 1), nn.ReLU())
        self.b3 = nn.Sequential(nn.Conv2d(cin, c3r, 1), nn.ReLU(),
                                nn.Conv2d(c3r, c3, 3, padding=1), nn.ReLU())
        self.b5 = nn.Sequential(nn.Conv2d(cin, c5r, 1), nn.ReLU(),
                                nn.Conv2d(c5r, c5, 5, padding=2), nn.ReLU())
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, padding=1),
                                nn.Conv2d(cin, pool, 1), nn.ReLU())

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


class GoogLeNet(nn.Module):
    """Inception v1 as in the paper (torchvision's has batch norm and 3x3
    kernels in the 5x5 branch)."""

    def __init__(self, classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True), lrn(),
            nn.Conv2d(64, 64, 1), nn.ReLU(),
            nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), lrn(),
            nn.MaxPool2d(3, 2, ceil_mode=True))
        self.i3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.i3b = Inception(256, 128, 128, 192, 32, 96, 64)
        # Registered in the model file's order, so parameters line up.
        self.i4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.aux1 = self.auxiliary(512, classes)
        self.i4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.i4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.i4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.aux2 = self.auxiliary(528, classes)
        self.i4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.i5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.i5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.fc = nn.Linear(1024, classes)

    @staticmethod
    def auxiliary(cin, classes):
        return nn.Sequential(nn.AvgPool2d(5, 3), nn.Conv2d(cin, 128, 1),
                             nn.ReLU(), nn.Flatten(), nn.Linear(2048, 1024),
                             nn.ReLU(), nn.Dropout(0.7), nn.Linear(1024, classes))

    def forward(self, x):
        x = self.i4a(F.max_pool2d(self.i3b(self.i3a(self.stem(x))), 3, 2,
                                  ceil_mode=True))
        aux1 = self.aux1(x)
        x = self.i4d(self.i4c(self.i4b(x)))
        aux2 = self.aux2(x)
        x = F.max_pool2d(self.i4e(x), 3, 2, ceil_mode=True)
        x = self.i5b(self.i5a(x))
        x = F.dropout(F.adaptive_avg_pool2d(x, 1).flatten(1), 0.4, self.training)
        return aux1, aux2, self.fc(x)  # the model file's output order


def googlenet():
    return GoogLeNet(), (3, 224, 224)


class CifarBlock(nn.Module):
    def __init__(self, cin, cout, stride, residual):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.residual, self.stride, self.extra = residual, stride, cout - cin

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if not self.residual:
            return F.relu(y)
        s = x
        if self.stride != 1 or self.extra:
            s = x[:, :, ::self.stride, ::self.stride]
            s = F.pad(s, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return F.relu(y + s)


def cifar(n, residual):
    def build():
        layers = [nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                  nn.ReLU()]
        cin = 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for j in range(n):
                layers.append(CifarBlock(cin, cout, stride if j == 0 else 1,
                                         residual))
                cin = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
        return nn.Sequential(*layers), (3, 32, 32)
    return build


class SeparableConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def sepbn(cin, cout):
    return nn.Sequential(SeparableConv(cin, cout), nn.BatchNorm2d(cout))


class XceptionDown(nn.Module):
    def __init__(self, cin, c1, c2, first_relu=True):
        super().__init__()
        self.first_relu = first_relu
        self.body = nn.Sequential(sepbn(cin, c1), nn.ReLU(), sepbn(c1, c2))
        self.shortcut = nn.Sequential(nn.Conv2d(cin, c2, 1, 2, bias=False),
                                      nn.BatchNorm2d(c2))

    def forward(self, x):
        y = F.relu(x) if self.first_relu else x
        # Max pooling with TensorFlow's "same" padding (extra row at the end).
        y = self.body(y)
        pad_total = max((-(-y.shape[2] // 2) - 1) * 2 + 3 - y.shape[2], 0)
        y = F.pad(y, (pad_total // 2, pad_total - pad_total // 2,
                      pad_total // 2, pad_total - pad_total // 2),
                  value=float("-inf"))
        return F.max_pool2d(y, 3, 2) + self.shortcut(x)


class XceptionMiddle(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.ReLU(), sepbn(728, 728), nn.ReLU(),
                                  sepbn(728, 728), nn.ReLU(), sepbn(728, 728))

    def forward(self, x):
        return self.body(x) + x


def xception():
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, 2, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        XceptionDown(64, 128, 128, first_relu=False),
        XceptionDown(128, 256, 256), XceptionDown(256, 728, 728),
        *[XceptionMiddle() for _ in range(8)],
        XceptionDown(728, 728, 1024),
        sepbn(1024, 1536), nn.ReLU(), sepbn(1536, 2048), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(2048, 1000))
    return model, (3, 299, 299)


def mobilenet_v1():
    def conv_bn(cin, cout, k, stride, groups=1):
        return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                nn.BatchNorm2d(cout), nn.ReLU()]
    layers, cin = conv_bn(3, 32, 3, 2), 32
    for cout, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1),
                         (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]:
        layers += conv_bn(cin, cin, 3, stride, groups=cin) + conv_bn(cin, cout, 1, 1)
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000)]
    return nn.Sequential(*layers), (3, 224, 224)



# Small networks of tests/training/ (training checked against PyTorch).

def alexnet_small():
    model = nn.Sequential(
        nn.Conv2d(3, 16, 5, stride=2), nn.ReLU(),
        nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2), nn.MaxPool2d(3, 2),
        nn.Conv2d(16, 32, 3, padding=1, groups=2), nn.ReLU(),
        nn.LocalResponseNorm(3, alpha=1e-3, beta=0.75, k=1), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 32, 3, padding=1, groups=2), nn.ReLU(), nn.Flatten(),
        nn.Linear(288, 64), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(64, 48), nn.ReLU(), nn.Dropout(0.3), nn.Linear(48, 10))
    return model, (3, 35, 35)


class GoogLeNetSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, ceil_mode=True),
                                  nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2))
        self.i3a = Inception(16, 8, 8, 12, 4, 6, 6)
        self.aux = nn.Sequential(nn.AvgPool2d(5, 3), nn.Conv2d(32, 16, 1), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(64, 32), nn.ReLU(),
                                 nn.Dropout(0.7), nn.Linear(32, 10))
        self.drop = nn.Dropout(0.4)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.i3a(self.stem(x))
        return self.aux(x), self.fc(self.drop(F.adaptive_avg_pool2d(x, 1).flatten(1)))


def googlenet_small():
    return GoogLeNetSmall(), (3, 32, 32)


def xception_block():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                          XceptionDown(8, 16, 24), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(24, 10))
    return model, (3, 15, 15)

MODELS = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "zfnet": zfnet,
    "vgg11": tv("vgg11"),
    "vgg11_lrn": vgg11_lrn,
    "vgg13": tv("vgg13"),
    "vgg16c": vgg16c,
    "vgg16": tv("vgg16"),
    "vgg19": tv("vgg19"),
    "googlenet": googlenet,
    "resnet18": tv("resnet18"),
    "resnet34": tv("resnet34"),
    "resnet50": tv("resnet50"),
    "resnet101": tv("resnet101"),
    "resnet152": tv("resnet152"),
    "resnet20": cifar(3, True),
    "resnet56": cifar(9, True),
    "plain20": cifar(3, False),
    "plain56": cifar(9, False),
    "xception": xception,
    "mobilenet_v1": mobilenet_v1,
}

# The networks of tests/training/, for checking training only.
TRAINING_MODELS = {
    "alexnet_small": alexnet_small,
    "googlenet_small": googlenet_small,
    "xception_block": xception_block,
}

# Examples whose .nn files name their parameters as torchvision does.
TORCHVISION_NAMES = {"resnet18", "resnet34", "resnet50", "resnet101", "resnet152"}


def measure(name):
    """Parameter count (as parameters() counts), multiply-adds of conv, dense
    and RBF layers for one sample (counted by forward hooks), and the
    parameter names and shapes in definition order."""
    torch.manual_seed(0)
    model, shape = MODELS[name]()
    model.eval()
    macs = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            per_out = (module.in_channels // module.groups) * \
                module.kernel_size[0] * module.kernel_size[1]
            macs.append(output[0].numel() * per_out)
        elif isinstance(module, (nn.Linear, RBF)):
            macs.append(module.in_features * module.out_features)

    for module in model.modules():
        module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "macs": sum(macs),
        "parameters": [[n, list(p.shape)] for n, p in model.named_parameters()],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("models", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(2)
    results = {name: measure(name) for name in args.models}
    if args.json:
        json.dump(results, sys.stdout)
        return
    print(f"{'model':14} {'params':>14} {'MACs':>16}")
    for name, r in results.items():
        print(f"{name:14} {r['params']:>14,} {r['macs']:>16,}")


if __name__ == "__main__":
    main()
