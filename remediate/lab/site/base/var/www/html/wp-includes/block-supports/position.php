<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/position.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/position.php';
