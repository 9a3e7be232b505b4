"""What the checks of the predict-then-run exercises explain, once the reader has answered.

A check prints its exercise's explanation after "correct", and adds it to the message of a wrong
prediction (never to that of an unanswered one). The texts live here rather than in the check
cells, where a reader would see the answer right below the question before predicting it.

Introduced in chapter 1, input.
"""

EXPLANATIONS: dict[str, str] = {
    "1.1": (
        "conv1's kernel grows with the input's 3 channels (62,464); the primary capsules' "
        "convolution stays at 5,308,672, since its kernel depends on conv1's 256 channels, not "
        "on the image's size; the grid grows from 6x6 to 8x8, so 2,048 primary capsules need "
        "2,621,440 weights W; the decoder's last layer redraws 3,072 pixels (3,756,544). In all"
        " 11,749,120, 43% more than for MNIST."
    ),
    "1.2": (
        "A 2x2 max-pooling misses a move only while the part stays inside one window: from "
        "column 0 to 1, 2 to 3 or 4 to 5, 3 of the 5 moves in each of the 6 rows, 18 of 30. A "
        "move across a window's edge changes the pooled map."
    ),
    "1.3": (
        "The mouth predicts the face 0.5 above itself, in its own frame: turned in place by 60 "
        "degrees, it turns that arrow with it, and its predicted face centre moves along a "
        "circle of radius 0.5 by a chord of 2 x 0.5 x sin 30 = 0.5. A part's orientation, not "
        "only its position, says where the whole should be."
    ),
    "1.4": (
        "A seed fixes where the sequence of draws starts, not every draw: b draws the numbers "
        "after a's, so a and b differ; c starts again from the seed and draws what a drew. Two "
        "models built one after the other start alike only if you seed again before each."
    ),
    "1.5": (
        "MNIST's digits were scaled into a 20x20 box and then centred in the frame by their "
        "centre of mass, not by their box, so some strokes come within 2 pixels of an edge; a "
        "shift of up to 2 pixels pushes out only the ink in the 2 outer rows or columns it "
        "moves towards. 628 of the 5,000 validation digits lose some ink, about one in eight, "
        "and none loses more than 7.9%: the paper's shifts trim a digit's edge, never cut it "
        "away."
    ),
    "2.1": (
        "The windows at r = 5 and c = 5 end at pixel 10 + 16 = 26: row 27 and column 27, 28 + "
        "27 = 55 pixels, are seen by no capsule (conv2's stride of 2 skips conv1's last row and"
        " column of outputs, the only ones that see them)."
    ),
    "2.2": (
        "Channels-first, the numbers lie channel after channel, 36 positions each; capsule 561 "
        "takes numbers 8 x 561 = 4,488 to 4,495, and 4,488 = 124 x 36 + 24: channel 124 at "
        "positions 24 to 31, (4, 0) to (5, 1), a strip over two rows of the grid, not a part."
    ),
    "2.3": (
        "The safe norm shortens the output by the factor l / sqrt(l^2 + eps), which is 0.99 "
        "where l^2 = 0.99^2 eps / (1 - 0.99^2), about 49 eps: l is about 7 sqrt(eps), 0.0022. "
        "Squash maps so short an input to a length of about 5e-6, too short to matter."
    ),
    "2.4": (
        "Squash maps a length l to t = l^2 / (1 + l^2); solving for l gives l^2 = t / (1 - t), "
        "so l = sqrt(t / (1 - t)). For 0.9 that is sqrt(9) = 3, three times the length 1 that "
        "squash maps to 0.5; as t nears 1, 1 - t nears 0 and the length needed grows without "
        "bound (sqrt(99), about 9.95, for 0.99)."
    ),
    "2.5": (
        "The trained network's capsules are far more often longer than 0.5 (about three in "
        "eight of them here); the untrained network has hardly any. Its convolution starts from"
        " small random weights, so its vectors s are short, and squash shortens a short vector "
        "further: a length l < 1 becomes l^2 / (1 + l^2) < l^2. Reaching 0.5 takes a length of "
        "s of at least 1 (exercise 2.4), and training gives such lengths to the capsules that "
        "help to classify."
    ),
    "3.1": (
        "Three times longer predictions make each parent's input three times longer, its output"
        " longer too, so every agreement grows about threefold or more: the logits grow faster "
        "and the softmax gets sharper. Children 0 to 3 send parent 0 nearly all of themselves: "
        "routing by agreement is not scale-free, the lengths act as its inverse temperature."
    ),
    "3.2": (
        "Each child's ten coefficients are a softmax: they sum to 1, so all 11,520 sum to "
        "1,152, in every round, 115.2 per parent on average. Routing only moves them between "
        "parents: what the winner gains (a few) comes out of the nine others, the shortest "
        "among them."
    ),
    "3.3": (
        "Its agreements u_hat . v are zero for every parent in every round, so its logits stay "
        "at 0 and its softmax stays even: 1/10 = 0.1 to each parent, whatever the others do. A "
        "short capsule is nearly such a child: its small agreements barely move its logits."
    ),
    "3.4": (
        "All four arrays share the axes (batch, 1,152 children, 100 parents), then hold their "
        "own numbers per child and parent: 32 x 8 for the tiled W, 8 for the tiled u, 32 for "
        "their product and 32 for u_hat. The batch, the children and the classes cancel: (32 x "
        "8 + 8 + 32) / 32 = 9.25, that is d_in + 1 + d_in / d_out. Only the capsules' own "
        "dimensions set the price of tiling (9.5 for the paper's 16-D digit capsules), so the "
        "einsum fits about nine times the batch in the same memory."
    ),
    "3.5": (
        "Each round adds the agreements to the logits once more, so the agreeing children keep "
        "concentrating on the winner and its input keeps growing; squash saturates: the lengths"
        " approach 1 without reaching it, as their median after ten rounds shows. Few classes, "
        "if any, change: more rounds make the network surer, hardly ever different."
    ),
    "4.1": (
        "λ(ℓ - 0.1)² = 0.16 with λ = 0.25 gives (ℓ - 0.1)² = 0.64, ℓ - 0.1 = 0.8, ℓ = 0.9: a "
        "quarter of the weight lets an absent class miss its margin by twice as much for the "
        "same cost, not four times: the square turns the weight λ into a factor 1/√λ on the "
        "distance. At the figure's λ = 0.5 it is 0.1 + 0.4 × √2 ≈ 0.67."
    ),
    "4.2": (
        "A present class pays the whole square of its miss, (0.9 - 0.7)² = 0.04; an absent "
        "class half of its square, 0.5 × (0.4 - 0.1)² = 0.045. The square grows faster than λ ="
        " 0.5 takes off: B costs a little more."
    ),
    "4.3": (
        "One length at (nearly) 1 and nine at 0 give the largest share, e / (e + 9) ≈ 0.23. "
        "Exponentials of numbers in [0, 1) differ by less than a factor e ≈ 2.7, so a softmax "
        "over lengths, without a scale learnt to sharpen it, could never be confident: a "
        "CapsNet reads its lengths as they are."
    ),
    "4.4": (
        "Between 0.1 and 0.9 neither max of eq. 4 clips: the present class costs (0.9 - ℓ)² and"
        " each of the classes - 1 absent ones λ(ℓ - 0.1)², so the loss is (0.9 - ℓ)² + "
        "λ(classes - 1)(ℓ - 0.1)². At 0.5 with ten classes that is 0.16 + 9 × 0.5 × 0.16 = "
        "0.88, 82% of it from the nine absent classes even at half weight: an undecided network"
        " is pushed mostly to shorten its capsules, which is why λ is there."
    ),
    "4.5": (
        "Zero loss needs the label's capsule at 0.9 or longer and the nine others at 0.1 or "
        "shorter, so the label's capsule is the longest: a digit that costs nothing is always "
        "classified correctly, and the fraction can never exceed the accuracy. Eq. 4 gives such"
        " digits no gradient at all, unlike a cross-entropy, which keeps pushing a confident "
        "prediction; only the reconstruction loss of chapter 6 still trains the network on "
        "them."
    ),
    "5.1": (
        "The nine absent capsules are short, but the decoder only ever saw zeros in their "
        "slots: nine slots of small numbers, each read through its own rows of the first "
        "kernel, add up to a push it never learned to ignore. The mask gives the decoder what "
        "it was trained on."
    ),
    "5.2": (
        "Flattening (16, 10) puts dimension d of class k at position 10d + k: class 3 fills 3, "
        "13, ..., 153. The decoder reads positions 16j to 16j + 15 as class j's pose, so it "
        "would read the 3's pose as scraps of all ten classes' poses."
    ),
    "5.3": (
        "Only the kept capsule gets a gradient: the mask multiplies the nine others by zero. So"
        " the label decides which capsule the reconstruction loss trains to encode the digit."
    ),
    "5.4": (
        "The wrong label's capsule is short, so the decoder gets almost nothing but zeros and "
        "draws its picture of 'nothing': the slot says which digit, only a long pose says how."
    ),
    "5.5": (
        "The prediction's mask redraws the misread digits better, with a lower mean error and "
        "on most of them: the longest capsule is the one routing filled with the strokes on the"
        " page (it won the children's agreement), so its pose holds most of what the decoder "
        "needs to redraw them, even though it names the wrong digit. On a digit read right both"
        " masks keep the same capsule and give the same error. Training still masks by the "
        "label because there the reconstruction must teach the label's capsule to encode the "
        "digit; masking by the prediction would teach a wrong class's capsule to draw it."
    ),
    "6.1": (
        "With no axis, tf.reduce_sum adds every squared error of the batch: each image's sum "
        "over its 784 pixels, summed over the 50 images instead of averaged. At a batch of 50 "
        "the 2017 term was 50 times the paper's (and grew with the batch); the 2018 "
        "tf.reduce_mean divides the same total by 50 x 784, 784 times less than the paper's."
    ),
    "6.2": (
        "The margin term pulls harder, though it is the smaller part of the loss: a term pulls "
        "with its slope, not its value, and a margin miss d costs d^2 but pulls with 2d (a miss"
        " of 0.1 costs 0.01 and pulls with 0.2). These are the gradients of one batch of test "
        "digits: only averaged over all the training digits, at an exact minimum of the "
        "training loss, must the two terms' gradients on the weights they share cancel."
    ),
    "6.3": (
        "The derivative of (x_hat - x)^2 is 2(x_hat - x) = 1, times 0.0005, divided by the 32 x"
        " 784 = 25,088 squared errors the mean averages: about 2.0e-8, five times smaller than "
        "Adam's 1e-7. With the paper's sum (divided by the 32 images only) it would be 784 "
        "times larger, 1.6e-5."
    ),
    "6.4": (
        "For each pixel p, the sum over the digits of (x_ip - c_p)^2 is smallest where its "
        "derivative, -2 times the sum of (x_ip - c_p), is zero: at c_p the mean of that pixel "
        "over the 300 digits. So the average digit is the best single picture, with a loss of "
        "about 49, against about 80 for a blank one. A decoder whose loss comes close to 49 has"
        " learned little more than the average digit: drawing it explains nearly all of the "
        "large weight's low loss."
    ),
    "6.5": (
        "A negative correlation says yes: the longer the winning capsule, the smaller the "
        "reconstruction error. A digit the network is sure of is a typical one, like those the "
        "decoder learned to draw, while an oddly written digit gets both a shorter capsule and "
        "a worse drawing. The link is weak, though, and over 100 digits a few such odd ones can"
        " carry most of it: a scatter plot of confidence against error shows whether they do."
    ),
    "7.1": (
        "Solve 0.96^(t/2000) = 1/2 by taking logarithms: t = 2000 x ln(1/2) / ln(0.96) = "
        "33,959.5 steps, just under 79 epochs at 430 steps an epoch. Each period of 2,000 steps"
        " takes off only 4%, and it takes about 17 of them to halve the rate: a run of a few "
        "dozen epochs hardly sees it fall."
    ),
    "7.2": (
        "With one present and nine absent capsules all of length L, the loss between 0.1 and "
        "0.9 is (0.9 - L)^2 + 4.5 (L - 0.1)^2; its derivative -2(0.9 - L) + 9(L - 0.1) is zero "
        "at L = 2.7/11, about 0.245, where the loss is about 0.524. So no: the stuck run's 0.81"
        " is the loss of capsules of length 0 (0.9^2), and a network that knows nothing can "
        "bring it down to 0.52 by making every capsule a little longer. A falling loss is not "
        "yet learning; accuracy above chance is."
    ),
    "7.3": (
        "49 errors, 0.49%. The paper's 25 errors give an interval reaching up to about 36.9 "
        "errors in 10,000; 48 errors still reach down to 36.2, 49 only to 37.1. Two counts must"
        " differ by both half-widths together, about 12 errors each here, nearly the paper's "
        "count again, so a re-implementation's 0.30% to 0.43% cannot be told from the paper's "
        "0.25% this way."
    ),
    "7.4": (
        "The paper's 0.001 ends lower. Adam's first update moves each weight by about the "
        "learning rate times the sign of its gradient, whatever the gradient's size, so at 0.01"
        " the first steps are so large that they overshoot: the first epoch's average loss ends"
        " above where the untrained network started, while at 0.001 it falls below it. Larger "
        "steps are not faster learning once they jump past the low ground they aim at."
    ),
    "7.5": (
        "Routing's later rounds move each child's output towards the parents its prediction "
        "already agrees with. With random weights W those agreements are chance, so there is "
        "nothing useful to sharpen, and the extra rounds slowed the first steps down: routing "
        "refines what a trained W predicts. After a full training the paper's Table 1 finds one"
        " round and three close (0.29% and 0.25% test error, with the reconstruction)."
    ),
    "8.1": (
        "The decoder reads each of the ten slots with weights of its own, learned only from the"
        " poses that class's capsule gave real digits of that class. Another class's 16 numbers"
        " in that slot are a pose it never saw: those weights draw something like their own "
        "digit only some of the time, and most pictures are neither digit. The shape is in the "
        "16 numbers together with the weights of their slot, not in either alone."
    ),
    "8.2": (
        "Less than twice: the decoder's pixels are sigmoids, and a pixel already near 0 or 1 "
        "moves little further; past the poses the decoder was trained on, a larger tweak mostly"
        " blurs. The response is roughly linear only for small tweaks."
    ),
    "8.3": (
        "The squared length ‖v + δ e_d‖² = ‖v‖² + 2δ v_d + δ² is a parabola in δ, lowest where "
        "its slope 2 v_d + 2δ is zero: δ = −v_d, which sets dimension d to zero and leaves the "
        "length √(‖v‖² − v_d²). So the tweak that shortens the capsule most is on the dimension"
        " with the largest |v_d|, and its δ is minus that entry. A capsule whose length is "
        "spread over many dimensions loses little to any single tweak."
    ),
    "8.4": (
        "A zoom by f about c moves an input point p to c + f(p − c), but transform_images asks "
        "the other way round, where each output pixel comes from: the input at c + (x − c)/f, "
        "the inverse map. Written out, a0 = b1 = 1/f, a1 = b0 = 0, a2 = b2 = c − c/f, and the "
        "last two numbers are 0 (no perspective). Putting f where 1/f belongs zooms the wrong "
        "way: a factor of 2 would halve the digit."
    ),
    "8.5": (
        "Rows are axis 1 of an (n, 28, 28, 1) batch: a shift down by p pixels puts p rows of "
        "zeros on top and drops the bottom p rows (moving axis 2 would shift the digits "
        "sideways). The pose change is the shifted images' capsule minus the originals', "
        "averaged over the images: 16 numbers, and the dimension asked for is the one with the "
        "largest absolute mean, its change keeping its sign. Which dimension it is belongs to "
        "these weights: another training run sorts its dimensions differently."
    ),
    "9.1": (
        "With rows growing downwards the second axis is flipped, and conjugating the textbook "
        "rotation by diag(1, −1) changes the sign of both off-diagonal entries: [[cos θ, sin "
        "θ], [−sin θ, cos θ]]. Check it on a point: (1, 0), right of the centre, must turn "
        "counter-clockwise as the image is seen, that is up the screen, to (cos θ, −sin θ). The"
        " third column is zero because p is measured from the centre, about which the map "
        "turns."
    ),
    "9.2": (
        "Down. A digit fills its 20x20 box from top to bottom (most are taller than wide), so a"
        " vertical shift of 6 pixels runs into a margin of about 4; and since the centre of "
        "mass, not the box, was put in the middle, digits with more ink in their upper half (7,"
        " 9, 4, 5, 8) sit low, with the least room below."
    ),
    "9.3": (
        "A network learns the invariances its training data show it. Drawing one angle per "
        "image, across the whole range, shows the CNN every turn up to max_angle (one angle for"
        " the whole batch would teach a single turn), and one short epoch of them lifts its "
        "accuracy at 45° by more than 10 points, more than the few points between the CapsNet "
        "and the CNN at any rotation. Upright digits may lose a little, since the run spent its"
        " steps on turned ones; mixing upright and rotated digits keeps both."
    ),
    "9.4": (
        "At 45° each model gets dozens of digits right that the other misses, and the "
        "difference of accuracies is what is left after they cancel. That is why the paired "
        "interval is built from b and c, and why a small difference can hide large "
        "disagreement."
    ),
    "10.1": (
        "Two of the three, most often: nothing limits the number of long capsules, but the "
        "network never saw three digits. Routing shares each primary capsule's vote among the "
        "classes (its coefficients sum to 1), so three overlapping digits each keep fewer "
        "strokes of their own, and a class the mixed strokes merely suggest can outgrow one of "
        "them."
    ),
    "10.2": (
        "The two longest capsules are the network's two answers. Sorting them and the pair's "
        "labels puts both in one order, so (3, 7) and (7, 3) compare equal, and the canvas "
        "counts only when both digits match. A network that always found one digit and guessed "
        "the other among the nine remaining classes would be right about 1 time in 9, not 1 in "
        "2."
    ),
    "10.3": (
        "Colour changes only conv1: 64x64 gives 32 x 24 x 24 = 18,432 primary capsules. Each "
        "has a 16x8 matrix for each of the 100 classes: 18,432 x 100 x 128 = 235,929,600."
    ),
    "10.4": (
        "Only two parts of the network know how many classes there are. W holds one 16x8 matrix"
        " per primary capsule and class: a 32x32 image leaves an 8x8 grid, 32 x 8 x 8 = 2,048 "
        "capsules, so 3 more classes add 2,048 x 3 x 128 = 786,432 weights. The decoder reads "
        "all the classes' poses, C x 16 numbers, so its first layer gains 3 x 16 rows of 512 "
        "weights, 24,576: 811,008 in all, a small share of the network, since the convolutions "
        "and the decoder's last layer depend on the image, not on the classes."
    ),
}
