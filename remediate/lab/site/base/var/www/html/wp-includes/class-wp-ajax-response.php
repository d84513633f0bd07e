<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-ajax-response.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-ajax-response.php';
