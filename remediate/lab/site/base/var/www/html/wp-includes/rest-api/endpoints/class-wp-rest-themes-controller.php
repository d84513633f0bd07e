<?php
/**
 * WordPress-like lab stub for wp-includes/rest-api/endpoints/class-wp-rest-themes-controller.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rest-api/endpoints/class-wp-rest-themes-controller.php';
