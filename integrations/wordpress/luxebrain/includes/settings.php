<?php
/**
 * The settings page (WooCommerce > LuxeBrain): the API address, the storefront key, where placements go, and
 * the "Connect to LuxeBrain" button. It opens the signed-in LuxeBrain dashboard with this store's address; the
 * dashboard calls LuxeBrain's POST /stores/connect, which answers this store's wc-auth authorize URL with a
 * one-time state, and sends the merchant there. WooCommerce then posts the REST keys it generates to
 * LuxeBrain's callback: they never pass through, nor are shown by, this plugin.
 *
 * @package LuxeBrain
 */

defined( 'ABSPATH' ) || exit;

/**
 * Options, each with its sanitiser (the options API stores them; options.php checks the nonce).
 */
function luxebrain_register_settings() {
	register_setting( 'luxebrain', 'luxebrain_api_url', array( 'type' => 'string', 'sanitize_callback' => 'esc_url_raw', 'default' => '' ) );
	register_setting( 'luxebrain', 'luxebrain_storefront_key', array( 'type' => 'string', 'sanitize_callback' => 'luxebrain_sanitize_key', 'default' => '' ) );
	register_setting( 'luxebrain', 'luxebrain_widget_url', array( 'type' => 'string', 'sanitize_callback' => 'esc_url_raw', 'default' => '' ) );
	register_setting( 'luxebrain', 'luxebrain_dashboard_url', array( 'type' => 'string', 'sanitize_callback' => 'esc_url_raw', 'default' => '' ) );
	register_setting( 'luxebrain', 'luxebrain_place_product', array( 'type' => 'string', 'sanitize_callback' => 'luxebrain_sanitize_flag', 'default' => '1' ) );
	register_setting( 'luxebrain', 'luxebrain_place_cart', array( 'type' => 'string', 'sanitize_callback' => 'luxebrain_sanitize_flag', 'default' => '1' ) );
}
add_action( 'admin_init', 'luxebrain_register_settings' );

/**
 * A publishable storefront key (lbpk_<tenant>_<secret>) or nothing.
 *
 * @param string $value Submitted value.
 * @return string
 */
function luxebrain_sanitize_key( $value ) {
	$value = trim( (string) $value );
	return preg_match( '/^lbpk_[a-z0-9-]{4,40}_[A-Za-z0-9_-]{32,64}$/', $value ) ? $value : '';
}

/**
 * A checkbox as '1' or ''.
 *
 * @param mixed $value Submitted value.
 * @return string
 */
function luxebrain_sanitize_flag( $value ) {
	return empty( $value ) ? '' : '1';
}

/**
 * The menu entry under WooCommerce.
 */
function luxebrain_admin_menu() {
	add_submenu_page( 'woocommerce', __( 'LuxeBrain', 'luxebrain' ), __( 'LuxeBrain', 'luxebrain' ), 'manage_woocommerce', 'luxebrain', 'luxebrain_settings_page' );
}
add_action( 'admin_menu', 'luxebrain_admin_menu' );

/**
 * The dashboard's connect page for this store: it starts wc-auth through POST /stores/connect.
 *
 * @return string
 */
function luxebrain_connect_url() {
	$dashboard = untrailingslashit( (string) luxebrain_option( 'dashboard_url' ) );
	return add_query_arg(
		array(
			'store_url'  => rawurlencode( home_url( '/' ) ),
			'return_url' => rawurlencode( admin_url( 'admin.php?page=luxebrain&connected=1' ) ),
		),
		$dashboard . '/stores/connect'
	);
}

/**
 * Connect button handler (admin-post.php?action=luxebrain_connect): nonce and capability, then wc-auth.
 */
function luxebrain_handle_connect() {
	if ( ! current_user_can( 'manage_woocommerce' ) ) {
		wp_die( esc_html__( 'You are not allowed to connect this store.', 'luxebrain' ), 403 );
	}
	check_admin_referer( 'luxebrain_connect' );
	if ( '' === (string) luxebrain_option( 'dashboard_url' ) ) {
		wp_safe_redirect( admin_url( 'admin.php?page=luxebrain&missing=1' ) );
		exit;
	}
	wp_redirect( luxebrain_connect_url() ); // phpcs:ignore WordPress.Security.SafeRedirect.wp_redirect_wp_redirect -- the LuxeBrain dashboard set by the merchant.
	exit;
}
add_action( 'admin_post_luxebrain_connect', 'luxebrain_handle_connect' );

/**
 * The settings page.
 */
function luxebrain_settings_page() {
	if ( ! current_user_can( 'manage_woocommerce' ) ) {
		return;
	}
	?>
	<div class="wrap">
		<h1><?php esc_html_e( 'LuxeBrain', 'luxebrain' ); ?></h1>
		<form method="post" action="<?php echo esc_url( admin_url( 'options.php' ) ); ?>">
			<?php settings_fields( 'luxebrain' ); ?>
			<table class="form-table" role="presentation">
				<tr><th scope="row"><label for="luxebrain_api_url"><?php esc_html_e( 'API address', 'luxebrain' ); ?></label></th>
					<td><input type="url" class="regular-text" id="luxebrain_api_url" name="luxebrain_api_url" value="<?php echo esc_attr( (string) luxebrain_option( 'api_url' ) ); ?>"></td></tr>
				<tr><th scope="row"><label for="luxebrain_storefront_key"><?php esc_html_e( 'Storefront key', 'luxebrain' ); ?></label></th>
					<td><input type="text" class="regular-text code" id="luxebrain_storefront_key" name="luxebrain_storefront_key" value="<?php echo esc_attr( (string) luxebrain_option( 'storefront_key' ) ); ?>">
					<p class="description"><?php esc_html_e( 'The publishable key (lbpk_...) from the LuxeBrain dashboard. It only reads recommendations and records what shoppers see.', 'luxebrain' ); ?></p></td></tr>
				<tr><th scope="row"><label for="luxebrain_dashboard_url"><?php esc_html_e( 'Dashboard address', 'luxebrain' ); ?></label></th>
					<td><input type="url" class="regular-text" id="luxebrain_dashboard_url" name="luxebrain_dashboard_url" value="<?php echo esc_attr( (string) luxebrain_option( 'dashboard_url' ) ); ?>"></td></tr>
				<tr><th scope="row"><label for="luxebrain_widget_url"><?php esc_html_e( 'Widget script address', 'luxebrain' ); ?></label></th>
					<td><input type="url" class="regular-text" id="luxebrain_widget_url" name="luxebrain_widget_url" value="<?php echo esc_attr( (string) luxebrain_option( 'widget_url' ) ); ?>"></td></tr>
				<tr><th scope="row"><?php esc_html_e( 'Placements', 'luxebrain' ); ?></th>
					<td><label><input type="checkbox" name="luxebrain_place_product" value="1" <?php checked( '1', (string) luxebrain_option( 'place_product', '1' ) ); ?>> <?php esc_html_e( 'Related products on product pages', 'luxebrain' ); ?></label><br>
					<label><input type="checkbox" name="luxebrain_place_cart" value="1" <?php checked( '1', (string) luxebrain_option( 'place_cart', '1' ) ); ?>> <?php esc_html_e( 'Goes with the basket on the cart', 'luxebrain' ); ?></label>
					<p class="description"><?php echo esc_html__( 'Elsewhere: the shortcode [luxebrain placement="trending"] or the LuxeBrain recommendations block.', 'luxebrain' ); ?></p></td></tr>
			</table>
			<?php submit_button(); ?>
		</form>
		<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
			<input type="hidden" name="action" value="luxebrain_connect">
			<?php wp_nonce_field( 'luxebrain_connect' ); ?>
			<?php submit_button( __( 'Connect to LuxeBrain', 'luxebrain' ), 'primary', 'luxebrain-connect', false ); ?>
		</form>
	</div>
	<?php
}
