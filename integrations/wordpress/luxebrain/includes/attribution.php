<?php
/**
 * At checkout, the widget's random visitor id and the last clicked placement (with its model version and the
 * recommendation answer's response id) are written into the order's meta_data, so LuxeBrain's ingest can tie the order to what the visitor saw.
 * Nothing personal: the visitor id is random, made in the browser.
 *
 * @package LuxeBrain
 */

defined( 'ABSPATH' ) || exit;

/**
 * The attribution meta of the current request's cookies: visitor id and last click, validated.
 *
 * @param array $cookies Usually $_COOKIE.
 * @return array Meta key => value.
 */
function luxebrain_attribution_meta( $cookies ) {
	$meta    = array();
	$visitor = isset( $cookies[ LUXEBRAIN_VISITOR_COOKIE ] ) ? sanitize_text_field( wp_unslash( $cookies[ LUXEBRAIN_VISITOR_COOKIE ] ) ) : '';
	if ( ! preg_match( '/^[A-Za-z0-9_-]{16,64}$/', $visitor ) ) {
		return $meta;
	}
	$meta['_luxebrain_visitor'] = $visitor;
	$click                      = isset( $cookies[ LUXEBRAIN_CLICK_COOKIE ] ) ? json_decode( wp_unslash( $cookies[ LUXEBRAIN_CLICK_COOKIE ] ), true ) : null;
	if ( is_array( $click ) && isset( $click['placement'] ) && preg_match( '/^[a-z][a-z0-9_-]{0,39}$/', (string) $click['placement'] ) ) {
		$version                        = isset( $click['model_version'] ) ? (string) $click['model_version'] : '';
		$response                       = isset( $click['response_id'] ) ? (string) $click['response_id'] : '';
		$meta['_luxebrain_attribution'] = array(
			'placement'     => (string) $click['placement'],
			'model_version' => preg_match( '/^[A-Za-z0-9_.:+-]{0,120}$/', $version ) ? $version : '',
			'response_id'   => preg_match( '/^[A-Za-z0-9_-]{0,64}$/', $response ) ? $response : '',
		);
	}
	return $meta;
}

/**
 * Classic checkout (woocommerce_checkout_create_order) and the block checkout's Store API
 * (woocommerce_store_api_checkout_update_order_meta): both hand over the order before it is saved.
 *
 * @param WC_Order $order The order being created.
 */
function luxebrain_write_attribution( $order ) {
	foreach ( luxebrain_attribution_meta( $_COOKIE ) as $key => $value ) { // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- validated in luxebrain_attribution_meta.
		$order->update_meta_data( $key, $value );
	}
}
add_action( 'woocommerce_checkout_create_order', 'luxebrain_write_attribution' );
add_action( 'woocommerce_store_api_checkout_update_order_meta', 'luxebrain_write_attribution' );
