<?php
/**
 * Placements: the slots the widget fills, on WooCommerce's hooks, as a shortcode and as a dynamic block.
 * The widget script is enqueued only on pages where a slot was rendered.
 *
 * @package LuxeBrain
 */

defined( 'ABSPATH' ) || exit;

/**
 * The markup of one slot. Every value is escaped; the widget fills the slot in the browser.
 *
 * @param string $placement Placement name (related, basket, trending, or the merchant's own).
 * @param array  $attributes Optional product_id, product_ids (array), category, k, title.
 * @return string
 */
function luxebrain_placement_markup( $placement, $attributes = array() ) {
	$placement = strtolower( preg_replace( '/[^a-z0-9_-]/i', '', (string) $placement ) );
	if ( '' === $placement || strlen( $placement ) > 40 || ! preg_match( '/^[a-z]/', $placement ) ) {
		return '';
	}
	$data = array( 'data-luxebrain-placement' => $placement );
	if ( ! empty( $attributes['product_id'] ) ) {
		$data['data-product-id'] = absint( $attributes['product_id'] );
	}
	if ( ! empty( $attributes['product_ids'] ) ) {
		$data['data-product-ids'] = implode( ',', array_map( 'absint', (array) $attributes['product_ids'] ) );
	}
	if ( ! empty( $attributes['category'] ) ) {
		$data['data-category'] = sanitize_title( $attributes['category'] );
	}
	if ( ! empty( $attributes['k'] ) ) {
		$data['data-k'] = min( 12, max( 1, absint( $attributes['k'] ) ) );
	}
	if ( ! empty( $attributes['title'] ) ) {
		$data['data-title'] = sanitize_text_field( $attributes['title'] );
	}
	luxebrain_enqueue_widget();
	$html = '<div class="luxebrain-slot"';
	foreach ( $data as $name => $value ) {
		$html .= ' ' . $name . '="' . esc_attr( (string) $value ) . '"';
	}
	return $html . '></div>';
}

/**
 * Enqueue the widget (async, in the footer) with its configuration, once, when a slot is on the page.
 */
function luxebrain_enqueue_widget() {
	static $done = false;
	$key = (string) luxebrain_option( 'storefront_key' );
	$api = (string) luxebrain_option( 'api_url' );
	if ( $done || '' === $key || '' === $api ) {
		return;
	}
	$done = true;
	$src  = (string) luxebrain_option( 'widget_url', plugins_url( 'assets/luxebrain-widget.js', dirname( __DIR__ ) . '/luxebrain.php' ) );
	wp_enqueue_script( 'luxebrain-widget', $src, array(), LUXEBRAIN_VERSION, array( 'strategy' => 'async', 'in_footer' => true ) );
	$config = array(
		'api'      => esc_url_raw( $api ),
		'key'      => $key,
		'storeApi' => esc_url_raw( rest_url( 'wc/store/v1' ) ),
	);
	wp_add_inline_script( 'luxebrain-widget', 'window.LuxeBrainConfig = ' . wp_json_encode( $config ) . ';', 'before' );
}

/**
 * Related products under the product summary (woocommerce_after_single_product_summary).
 */
function luxebrain_product_placement() {
	global $product;
	if ( ! luxebrain_option( 'place_product', '1' ) || ! is_object( $product ) ) {
		return;
	}
	echo luxebrain_placement_markup( 'related', array( 'product_id' => $product->get_id() ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in luxebrain_placement_markup.
}
add_action( 'woocommerce_after_single_product_summary', 'luxebrain_product_placement', 25 );

/**
 * What goes with the basket, under the cart table (woocommerce_after_cart_table).
 */
function luxebrain_cart_placement() {
	if ( ! luxebrain_option( 'place_cart', '1' ) || ! function_exists( 'WC' ) || ! WC()->cart ) {
		return;
	}
	$ids = array();
	foreach ( WC()->cart->get_cart() as $line ) {
		$ids[] = absint( $line['product_id'] );
	}
	if ( $ids ) {
		echo luxebrain_placement_markup( 'basket', array( 'product_ids' => array_slice( array_unique( $ids ), 0, 50 ) ) ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in luxebrain_placement_markup.
	}
}
add_action( 'woocommerce_after_cart_table', 'luxebrain_cart_placement' );

/**
 * Shortcode [luxebrain placement="trending" category="shoes" k="4" title="..."].
 *
 * @param array|string $atts Shortcode attributes.
 * @return string
 */
function luxebrain_shortcode( $atts ) {
	$atts = shortcode_atts(
		array(
			'placement'  => 'trending',
			'product_id' => '',
			'category'   => '',
			'k'          => '',
			'title'      => '',
		),
		$atts,
		'luxebrain'
	);
	if ( 'related' === $atts['placement'] && '' === $atts['product_id'] && is_singular( 'product' ) ) {
		$atts['product_id'] = get_the_ID();
	}
	return luxebrain_placement_markup( $atts['placement'], $atts );
}
add_shortcode( 'luxebrain', 'luxebrain_shortcode' );

/**
 * The dynamic block luxebrain/placement, registered from its block.json (attributes, editor script in
 * blocks/placement/index.js) and rendered on the server with the same markup as the shortcode.
 */
function luxebrain_register_block() {
	register_block_type( dirname( __DIR__ ) . '/blocks/placement', array( 'render_callback' => 'luxebrain_render_block' ) );
}
add_action( 'init', 'luxebrain_register_block' );

/**
 * Render callback of the block.
 *
 * @param array $attributes Block attributes.
 * @return string
 */
function luxebrain_render_block( $attributes ) {
	return luxebrain_shortcode( (array) $attributes );
}
